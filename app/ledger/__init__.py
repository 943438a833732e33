"""The rectification ledger (整改台账) with 销号 by the supervisor above, and 督办令 (issue 17 point 3)."""
