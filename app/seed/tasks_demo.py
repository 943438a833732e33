"""Demo campaign, for ``seed demo`` and ``seed city``.

``load_content`` creates the campaign with its three stages dated around ``now`` (学习教育 is
over, 查纠整改 is running, 总结提升 follows), the campaign office's required tasks (watch the
warning film, write a reflection on an item, attend the party lecture, a self-check proof) and
one optional task of 小店分局.

``seed_activity`` writes a handful of submissions, never one per synthetic officer, so
``seed city --officers 10028`` stays fast: the demo ``officer`` has the film done, a reflection
returned with a comment and the party lecture overdue; a few officers of the same station have
reflections waiting for the 小店分局 supervisor, written in the project's own words
(``app/seed_data/reflections.yaml``).
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..models import Campaign, CampaignStage, StudyItem, Task, TaskSubmission, Unit, User
from ..timeutils import local_day, to_utc

SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"
DEMO_OFFICER, DEMO_SUPERVISOR = "officer", "supervisor"
OPTIONAL_UNIT = "TY-GA-XD"


def _due(day, hour: int = 18) -> datetime:
    return to_utc(datetime.combine(day, time(hour, 0)))


def _item_id(session: Session, slug: str) -> int | None:
    return session.scalar(select(StudyItem.id).where(StudyItem.slug == slug))


def load_content(session: Session, now: datetime) -> dict:
    today = local_day(now)
    campaign = Campaign(name="太原市政法队伍教育整顿", created_at=now - timedelta(days=45))
    session.add(campaign)
    session.flush()
    spans = {"study": (today - timedelta(days=40), today - timedelta(days=6)),
             "rectify": (today - timedelta(days=5), today + timedelta(days=25)),
             "summary": (today + timedelta(days=26), today + timedelta(days=45))}
    texts = {"study": ("学习教育", "筑牢政治忠诚：学习理论、观看警示教育片、撰写学习心得。"),
             "rectify": ("查纠整改", "刀刃向内、自查自纠：对照“六大顽瘴痼疾”查找问题，立行立改，按时完成规定动作。"),
             "summary": ("总结提升", "总结经验、建章立制，巩固教育整顿成果。")}
    stages = {}
    for code, (start, end) in spans.items():
        stage = CampaignStage(campaign_id=campaign.id, code=code, name=texts[code][0], starts_on=start, ends_on=end,
                              description=texts[code][1])
        session.add(stage)
        stages[code] = stage
    session.flush()
    admin_id = session.scalar(select(User.id).where(User.username == "admin"))
    sup_id = session.scalar(select(User.id).where(User.username == DEMO_SUPERVISOR))
    xd = session.scalar(select(Unit.id).where(Unit.code == OPTIONAL_UNIT))
    rows = [
        dict(stage_id=stages["study"].id, kind="reflection", required=True, title="撰写“三个规定”学习心得",
             description="结合本职工作谈认识、找差距，不少于 150 字。", due_at=_due(today - timedelta(days=8)),
             item_id=_item_id(session, "warning-three-regulations"), min_chars=150, created_by_id=admin_id),
        dict(stage_id=stages["rectify"].id, kind="read", required=True, title="观看警示教育片",
             description="观看警示教育片《警钟》导读，学完即完成。", due_at=_due(today + timedelta(days=2)),
             item_id=_item_id(session, "warning-film-intro"), min_chars=0, created_by_id=admin_id),
        dict(stage_id=stages["rectify"].id, kind="reflection", required=True, title="撰写警示教育学习心得",
             description="观看警示教育片后，对照“六大顽瘴痼疾”写出自己的认识和整改打算，不少于 150 字。",
             due_at=_due(today + timedelta(days=6)), item_id=_item_id(session, "warning-film-intro"),
             min_chars=150, created_by_id=admin_id),
        dict(stage_id=stages["rectify"].id, kind="event", required=True, title="参加专题党课",
             description="参加本单位组织的教育整顿专题党课，上传签到或现场照片，由单位管理员确认。",
             due_at=_due(today - timedelta(days=1)), item_id=None, min_chars=0, created_by_id=admin_id),
    ]
    if xd is not None:
        rows.append(dict(stage_id=stages["rectify"].id, kind="proof", required=False, target_unit_id=xd,
                         title="“回头警”走访自查", description="走访辖区反复报警的住户一次，写明情况并附照片。",
                         due_at=_due(today + timedelta(days=10)), item_id=None, min_chars=0, created_by_id=sup_id))
    for row in rows:
        row.setdefault("target_unit_id", None)
        row["created_at"] = now - timedelta(days=5)
    session.execute(insert(Task), rows)
    return {"stages": 3, "tasks": len(rows)}


def seed_activity(session: Session, now: datetime, officer_ids: list[int], weeks: int, rng: random.Random) -> None:
    tasks = {t.title: t for t in session.scalars(select(Task))}
    if not tasks or not officer_ids:
        return
    reflections = yaml.safe_load((SEED_DIR / "reflections.yaml").read_text(encoding="utf-8")) or []
    bodies = [r["body"].strip() for r in reflections]
    sup_id = session.scalar(select(User.id).where(User.username == DEMO_SUPERVISOR))
    film, essay = tasks.get("观看警示教育片"), tasks.get("撰写警示教育学习心得")
    earlier = tasks.get("撰写“三个规定”学习心得")
    rows = []
    demo = session.scalar(select(User).where(User.username == DEMO_OFFICER))
    if demo is not None:
        if film:
            rows.append(dict(task_id=film.id, user_id=demo.id, status="accepted", text="", photos=[],
                             review_comment="", submitted_at=now - timedelta(days=2), reviewed_at=now - timedelta(days=2)))
        if earlier:
            rows.append(dict(task_id=earlier.id, user_id=demo.id, status="accepted", text=bodies[1], photos=[],
                             review_comment="认识深刻，措施具体。", reviewed_by_id=sup_id,
                             submitted_at=now - timedelta(days=10), reviewed_at=now - timedelta(days=9)))
        if essay:
            rows.append(dict(task_id=essay.id, user_id=demo.id, status="returned", text=bodies[5][:160], photos=[],
                             review_comment="请结合本所“六大顽瘴痼疾”自查情况，写出具体整改措施后重新提交。",
                             reviewed_by_id=sup_id, submitted_at=now - timedelta(days=1),
                             reviewed_at=now - timedelta(hours=20)))
        # 参加专题党课 is left overdue on purpose.
        peers = list(session.scalars(select(User.id).where(User.unit_id == demo.unit_id, User.role == "officer",
                                                           User.id != demo.id).order_by(User.id).limit(6)))
    else:  # a synthetic city: a few officers only, so the seed stays fast
        peers = officer_ids[:6]
    for i, uid in enumerate(peers):
        if essay:
            rows.append(dict(task_id=essay.id, user_id=uid, status="submitted" if i < 4 else "accepted",
                             text=bodies[(i + 2) % len(bodies)], photos=[], review_comment="",
                             reviewed_by_id=sup_id if i >= 4 else None,
                             submitted_at=now - timedelta(hours=6 + 5 * i),
                             reviewed_at=now - timedelta(hours=2) if i >= 4 else None))
        if film and i % 2 == 0:
            rows.append(dict(task_id=film.id, user_id=uid, status="accepted", text="", photos=[], review_comment="",
                             submitted_at=now - timedelta(days=1), reviewed_at=now - timedelta(days=1)))
    for row in rows:
        row.setdefault("reviewed_by_id", None)
        row["updated_at"] = row["submitted_at"]
    if rows:
        session.execute(insert(TaskSubmission), rows)
