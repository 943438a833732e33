"""All models, imported here so Alembic and the app see one metadata."""
from .audit import AuditLog
from .base import Base, utc_now
from .units import UNIT_LEVELS, Unit
from .users import ROLES, AuthSession, User

__all__ = ["AuditLog", "AuthSession", "Base", "ROLES", "UNIT_LEVELS", "Unit", "User", "utc_now"]
