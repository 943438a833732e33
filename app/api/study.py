"""/api/v1/study/* (issue #3)."""
from . import bp  # noqa: F401
