"""Demo 谈心谈话 for ``seed demo`` and ``seed city`` (issue 17 point 4): the ``supervisor`` of
小店分局 has talked with the demo ``officer`` and a few officers of the branch's stations in the
last days, each with a short note (sealed like every note, through the real service), so the
branch's 谈心谈话覆盖率 is above zero and the ``inspector`` has notes to read."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..auth.scope import people_in_scope
from ..forms_.crypto import KeysMissing, keys_of
from ..models import User
from ..talks.services import record_talk
from ..timeutils import local_day

TALKS = (
    # (days ago, kind, topics, note)
    (2, "heart", ["thought", "pressure"], "近期值班任务重，睡眠不足；已协调调整排班，鼓励其按时参加学习教育。"),
    (5, "reminder", ["relatives", "integrity"], "提醒如实报告配偶从业情况，本人表示将在个人有关事项报告中如实填报。"),
    (6, "heart", ["family"], "母亲住院，家庭经济有困难；所里已上报申请困难帮扶。"),
    (8, "home", ["family", "offduty"], "家访了解八小时以外情况，家属反映其下班后按时回家，无异常。"),
    (9, "admonish", ["integrity"], "就接受辖区商户宴请问题进行诫勉谈话，本人认识到问题并作出书面检查。"),
)


def load_content(session: Session, now: datetime) -> dict:
    return {}


def seed_activity(session: Session, now: datetime, officer_ids: list[int], weeks: int, rng: random.Random) -> None:
    supervisor = session.scalar(select(User).where(User.username == "supervisor"))
    officer = session.scalar(select(User).where(User.username == "officer"))
    if supervisor is None or officer is None:
        return
    others = list(session.scalars(select(User).where(people_in_scope(session, supervisor), User.role == "officer",
                                                     User.is_active.is_(True), User.id != officer.id)
                                  .order_by(User.id).limit(len(TALKS) - 1)))
    try:
        keys_of(current_app.config)
    except KeysMissing:  # a script or benchmark without FORMS_KEYS: no notes to seal, so no talks
        return
    today = local_day(now)
    for person, (days, kind, topics, note) in zip([officer, *others], TALKS):
        record_talk(session, supervisor, person, today - timedelta(days=days), kind, topics, note, today)
    session.flush()
