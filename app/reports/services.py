"""Writes behind the reports: score weights (admin) and reminders (supervisors). Flush only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from .. import audit
from ..models import AppSetting
from ..notices import reminders
from .figures import WEIGHT_KEYS
from .queries import WEIGHTS_KEY, get_weights


def weight_errors(weights: dict) -> list[str]:
    """Why ``weights`` cannot be saved: every weight of ``figures.WEIGHTS``, each a whole number
    0–100, together 100. Empty when they can."""
    errors = []
    if set(weights) != set(WEIGHT_KEYS):
        errors.append("权重项不完整。")
    elif any(not isinstance(v, int) or not 0 <= v <= 100 for v in weights.values()):
        errors.append("每项权重应为 0–100 的整数。")
    elif sum(weights.values()) != 100:
        errors.append(f"各项权重合计应为 100，现在是 {sum(weights.values())}。")
    return errors


def set_weights(session: Session, weights: dict, by, now: datetime) -> None:
    """Store new composite weights (validated by the caller with ``weight_errors``); audited. The
    row holds every weight of the day; one added later takes its default (``get_weights``)."""
    before = get_weights(session)
    row = session.get(AppSetting, WEIGHTS_KEY)
    if row is None:
        row = AppSetting(key=WEIGHTS_KEY, value=weights, updated_at=now, updated_by_id=by.id)
        session.add(row)
    else:
        row.value, row.updated_at, row.updated_by_id = dict(weights), now, by.id
    session.flush()
    audit.record(session, "settings.score_weights", actor=by, target_type="setting", target_id=WEIGHTS_KEY,
                 before=before, after=weights)


def remind(session: Session, only: str, week: str, officer_ids: list[int], by, now: datetime) -> tuple[int, int]:
    """The reminder of dashboard filter ``only`` to each officer (the caller has scoped the list)
    who has not had one of its kind today, through the once-a-day key
    (``app.notices.reminders.send``); audited once. Returns (sent, skipped)."""
    reminder = reminders.REMINDERS[only]
    sent, skipped = reminders.send(session, reminder, officer_ids, week, now)
    audit.record(session, "report.remind", actor=by, target_type="officers", target_id=sent,
                 detail=reminder.title, after={"kind": reminder.kind, "week": week, "sent": sent, "skipped": skipped})
    return sent, skipped
