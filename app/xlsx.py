"""Helpers for every Excel file the platform writes."""
from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (QUALITY A25).

    openpyxl stores any string starting with ``=`` as a formula, so this is not cosmetic.
    Numbers pass through unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
