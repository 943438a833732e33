"""Question bank and the automated weekly exam (issue #4)."""
