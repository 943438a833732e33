"""What the officer's home page shows about the ledger: the items they are responsible for that
are not closed yet, how many are overdue or were returned, and the most urgent one."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import LedgerItem, User
from ..timeutils import local_day
from .queries import is_overdue


def home_context(session: Session, user: User, now: datetime) -> dict:
    items = session.scalars(select(LedgerItem).where(LedgerItem.responsible_id == user.id,
                                                     LedgerItem.status != "closed")
                            .order_by(LedgerItem.deadline, LedgerItem.id)).all()
    if not items:
        return {"ledger_home": None}
    today = local_day(now)
    return {"ledger_home": {"open": len(items), "overdue": sum(is_overdue(i, today) for i in items),
                            "returned": sum(i.status == "returned" for i in items), "next": items[0]}}
