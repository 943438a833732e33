"""Per-unit scores, rankings, the supervisor's desk and Excel exports (issue #5)."""
