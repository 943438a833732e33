"""Demo announcements with read receipts, for ``seed demo`` and ``seed city``.

``seed_activity`` sends the texts of ``app/seed_data/announcements.yaml`` through the real
service (one INSERT … SELECT each, one audit row each), dated ``days_ago`` before ``now``: the
campaign office's to everyone in the city, the 小店分局 supervisor's to the officers below that
branch. Then about ``read_pct`` per cent of each one's recipients have read it (a fixed spread
over user ids, one UPDATE per announcement, so ``seed city --officers 10028`` stays fast). The
demo ``officer`` has read the older ones and not the newest two, so the badge shows; the demo
``supervisor`` has one unread, and finds receipts for their own notice and for the office's
notices in their subtree.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import AuditLog, Notification, Unit, User
from ..notices import services

SEED_FILE = Path(__file__).resolve().parent.parent / "seed_data" / "announcements.yaml"
DEMO_OFFICER, DEMO_SUPERVISOR, DEMO_ADMIN = "officer", "supervisor", "admin"
#: Of the notices they received, the demo officer has read all but the newest two, the demo
#: supervisor all but the newest one (so both see an unread marker).
OFFICER_UNREAD_NEWEST, SUPERVISOR_UNREAD_NEWEST = 2, 1


def load_content(session: Session, now: datetime) -> dict:
    return {}


def _mark_read(session: Session, ann_id: int, pct: int, sent_at: datetime, now: datetime, skip: list[int]) -> None:
    """About ``pct`` per cent of the recipients read it: an early half an hour after sending,
    the rest later (never after ``now``). Which people is a fixed function of their id."""
    early = min(sent_at + timedelta(minutes=30), now)
    late = min(sent_at + timedelta(hours=20), now)
    base = update(Notification).where(Notification.announcement_id == ann_id, Notification.user_id.not_in(skip))
    session.execute(base.where((Notification.user_id * 37 + ann_id) % 100 < pct // 2).values(read_at=early))
    session.execute(base.where(Notification.read_at.is_(None), (Notification.user_id * 37 + ann_id) % 100 < pct)
                    .values(read_at=late))


def seed_activity(session: Session, now: datetime, officer_ids: list[int], weeks: int, rng: random.Random) -> None:
    entries = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8")) or []
    users = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_([DEMO_OFFICER, DEMO_SUPERVISOR, DEMO_ADMIN])))}
    root = session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id).limit(1))
    admin, supervisor, officer = users.get(DEMO_ADMIN), users.get(DEMO_SUPERVISOR), users.get(DEMO_OFFICER)
    if root is None or admin is None:
        return
    sent = []
    for entry in sorted(entries, key=lambda e: -float(e.get("days_ago", 0))):
        by_office = entry.get("from", "campaign_office") == "campaign_office"
        sender = admin if by_office else supervisor
        if sender is None:
            continue
        sent_at = now - timedelta(days=float(entry.get("days_ago", 0)))
        ann = services.send(session, sender, title=entry["title"], body=entry["body"].strip(), body_format="text",
                            target_unit_id=root.id if by_office else sender.unit_id,
                            audience="all" if by_office else "officers", now=sent_at)
        # The audit row is stamped with the wall clock by default; the demo's history has its own.
        session.execute(update(AuditLog).where(AuditLog.action == "announcement.send",
                                               AuditLog.target_id == str(ann.id)).values(at=sent_at))
        demo_people = [u.id for u in (officer, supervisor) if u is not None]
        _mark_read(session, ann.id, int(entry.get("read_pct", 50)), sent_at, now, demo_people)
        sent.append((ann, sent_at))
    for person, unread_newest in ((officer, OFFICER_UNREAD_NEWEST), (supervisor, SUPERVISOR_UNREAD_NEWEST)):
        if person is None:
            continue
        got = [(ann, at) for ann, at in sent if ann.sender_id != person.id]
        for ann, sent_at in got[:max(0, len(got) - unread_newest)]:
            session.execute(update(Notification).where(Notification.announcement_id == ann.id,
                                                       Notification.user_id == person.id)
                            .values(read_at=min(sent_at + timedelta(hours=2), now)))
    session.flush()
