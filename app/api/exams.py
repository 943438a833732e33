"""/api/v1/exams/* and /api/v1/attempts/* (issue #4)."""
from . import bp  # noqa: F401
