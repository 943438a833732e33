"""Demo 整改台账 and 督办令, for ``seed demo`` and ``seed city`` (issue 17 point 6).

Placed around the demo accounts, so both data sets get them: the demo ``officer``'s station
(坞城派出所) has a closed item and an open one its own supervisor ``wucheng`` can work on; a
sibling station has an overdue item, another one waiting for the ``supervisor`` of the branch
(小店分局) to accept it (with a photo and a PDF, and the 待验收 notice the supervisor got); the
branch itself has an item only the campaign office can close; another branch has one closed and
one open item. The station's open item holds a draft photo. The office's 督办令 to two branches
has one answered (with a photo) and one not yet; a second one asks 坞城派出所 (not answered yet,
so ``wucheng`` sees it on the 工作台) and a sibling station (answered). The texts are the
project's own, after the campaign's six chronic problems; the files are drawn here.
"""
from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

from PIL import Image, ImageDraw

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..ledger import evidence
from ..models import LedgerEvidence, LedgerItem, Notification, SupervisionOrder, SupervisionTarget, Unit, User
from ..notices.reminders import ledger_subject
from ..tasks.photos import write_new
from ..timeutils import local_day

#: A one-page PDF (a printed 整改报告 stands in for the real scan).
DEMO_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R"
            b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
            b"4 0 obj<</Length 44>>stream\nBT /F1 18 Tf 72 760 Td (Demo report) Tj ET\nendstream endobj\n"
            b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")

ITEMS = (
    # (where, source, category, description, measures, days to deadline, state)
    ("station", "self", "interference",
     "个别民警接到他人过问在办案件的电话后，未按规定在执法办案平台如实记录报告。",
     "组织全所民警重新学习防止干预司法“三个规定”，逐人签订承诺书；所长每周检查过问登记。", -12, "closed"),
    ("station", "self", "business",
     "自查发现一名民警的配偶在辖区经营娱乐场所，民警本人未主动报告。",
     "责令本人书面说明情况并作出处理；全所开展干警及家属经商办企业情况再排查。", 10, "open"),
    ("sibling", "org", "cases",
     "2020 年受理的两起盗窃警情未按规定立案，存在“有案不立”问题。",
     "逐案复查受立案情况，依法补立并告知报案人；建立警情与立案比对月报。", -3, "open"),
    ("sibling2", "public", "other",
     "群众反映户籍窗口办理业务排队时间长、一次性告知不到位。",
     "增设周末服务窗口，公开办事指南，实行首问负责制。", 5, "submitted"),
    ("branch", "inspection", "lending",
     "督导组反馈：分局个别中层干部向辖区企业负责人借款，未按规定报告。",
     "责令本人清退借款并作出书面检查；分局开展违规参股借贷专项清理。", 20, "open"),
    ("other", "self", "sentence",
     "对协助办理暂予监外执行的材料审核把关不严，复核记录不完整。",
     "补全复核记录，建立材料双人审核、主管领导签批制度。", -20, "closed"),
    ("other", "public", "interference",
     "群众反映民警为亲属案件“打招呼”，经核查属实。",
     "依纪依规处理当事民警，在全局通报；开展过问案件登记专项检查。", 15, "open"),
)


def load_content(session: Session, now: datetime) -> dict:
    return {}


def _units(session: Session) -> dict | None:
    officer = session.scalar(select(User).where(User.username == "officer"))
    supervisor = session.scalar(select(User).where(User.username == "supervisor"))
    if officer is None or supervisor is None:
        return None
    station = session.get(Unit, officer.unit_id)
    branch = session.get(Unit, supervisor.unit_id)
    siblings = list(session.scalars(select(Unit).where(Unit.parent_id == branch.id, Unit.id != station.id)
                                    .order_by(Unit.sort_order, Unit.id)))
    other = session.scalar(select(Unit).where(Unit.parent_id == branch.parent_id, Unit.id != branch.id)
                           .order_by(Unit.sort_order, Unit.id).limit(1))
    other_station = session.scalar(select(Unit).where(Unit.parent_id == other.id).order_by(Unit.id).limit(1)) \
        if other is not None else None
    return {"station": station, "sibling": siblings[0] if siblings else station,
            "sibling2": siblings[1] if len(siblings) > 1 else station, "branch": branch,
            "other": other_station or other or station, "other_branch": other or branch,
            "officer": officer, "supervisor": supervisor}


def _photo_bytes(colour: tuple[int, int, int]) -> bytes:
    """A drawn "photo" of a signed sheet on a desk (JPEG)."""
    image = Image.new("RGB", (800, 600), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((160, 70, 640, 540), fill=(250, 250, 246))
    for y in range(130, 460, 36):
        draw.line((200, y, 600 - (y % 5) * 20, y), fill=(90, 96, 110), width=5)
    draw.ellipse((470, 430, 590, 520), outline=(200, 30, 30), width=8)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _photo(colour: tuple[int, int, int]) -> str:
    """The drawn photo stored in the ledger's evidence folder; its file name."""
    return write_new(evidence.folder(), _photo_bytes(colour), "jpg")


def _attach(item: LedgerItem, person: User, now: datetime, *kinds: str) -> None:
    """Evidence files on ``item``, uploaded by ``person``: each kind a "photo" or a "pdf"."""
    for kind in kinds:
        data, ext = (_photo_bytes((96, 110, 128)), "jpg") if kind == "photo" else (DEMO_PDF, "pdf")
        item.evidence.append(LedgerEvidence(kind=kind, file_name=write_new(evidence.folder(), data, ext),
                                            size=len(data), uploaded_by_id=person.id, created_at=now))


def _person(session: Session, unit: Unit, prefer: User | None = None) -> User | None:
    if prefer is not None and prefer.unit_id == unit.id:
        return prefer
    return session.scalar(select(User).where(User.unit_id == unit.id, User.is_active.is_(True),
                                             User.role.in_(("officer", "supervisor")))
                          .order_by(User.role.desc(), User.id).limit(1))


def seed_activity(session: Session, now: datetime, officer_ids: list[int], weeks: int, rng: random.Random) -> None:
    places = _units(session)
    if places is None:
        return
    today = local_day(now)
    admin_id = session.scalar(select(User.id).where(User.username == "admin"))
    sup = places["supervisor"]
    for where, source, category, description, measures, days, state in ITEMS:
        unit = places[where]
        person = _person(session, unit, places["officer"] if where == "station" else None)
        if person is None:
            continue
        created = now - timedelta(days=30)
        item = LedgerItem(unit_id=unit.id, source=source, category=category, description=description,
                          measures=measures, responsible_id=person.id, deadline=today + timedelta(days=days),
                          status=state, created_by_id=sup.id if where != "other" else admin_id, created_at=created,
                          updated_at=created)
        if state in ("submitted", "closed"):
            item.evidence_text = "已按整改措施逐项落实，相关制度和学习记录已归档备查。"
            submitted = created + timedelta(days=7) if state == "closed" else now - timedelta(days=1)
            item.submitted_at, item.submitted_by_id = submitted, person.id
        if state == "closed":
            reviewer = sup.id if unit.parent_id == sup.unit_id else admin_id
            item.reviewed_by_id, item.reviewed_at = reviewer, item.submitted_at + timedelta(hours=20)
            item.closed_at = item.reviewed_at
        if state == "submitted":
            _attach(item, person, item.submitted_at, "photo", "pdf")
        elif where == "station" and state == "open":
            _attach(item, person, now - timedelta(days=2), "photo")  # a draft: 销号 not asked yet
        session.add(item)
        session.flush()
        if state == "submitted" and unit.parent_id == sup.unit_id:
            session.add(Notification(user_id=sup.id, kind="ledger_submitted", title="整改事项申请销号，待您验收",
                                     body=f"{unit.name}：{description[:60]}", link=f"/ledger/items/{item.id}",
                                     subject=ledger_subject(item.id), created_at=item.submitted_at))
    session.flush()
    order = SupervisionOrder(
        title="关于如实报告干警近亲属从事律师职业情况的督办令",
        body="各单位组织干警对照任职回避规定，如实报告配偶、子女及其配偶从事律师职业和有偿法律服务情况，"
             "对存在问题的逐人提出处理意见，按期书面回复。",
        deadline=today + timedelta(days=3), created_by_id=admin_id, created_at=now - timedelta(days=4))
    responded = SupervisionTarget(unit_id=places["branch"].id, response_text=(
        "已组织全体干警逐人填报近亲属从业情况，发现 2 名干警配偶从事律师职业，已按规定调整岗位并登记台账。"),
        responded_at=now - timedelta(days=1), responded_by_id=sup.id, attachment=_photo((70, 90, 70)),
        attachment_kind="photo")
    order.targets = [responded]
    if places["other_branch"].id != places["branch"].id:
        order.targets.append(SupervisionTarget(unit_id=places["other_branch"].id))
    session.add(order)
    session.flush()
    _station_order(session, places, admin_id, today, now)


def _station_order(session: Session, places: dict, admin_id: int | None, today, now: datetime) -> None:
    """A 督办令 to 坞城派出所 (open: ``wucheng`` must answer) and a sibling station (answered)."""
    station, sibling = places["station"], places["sibling"]
    order = SupervisionOrder(
        title="关于报送执法办案突出问题专项自查情况的督办令",
        body="请对照执法办案突出问题清单逐项自查，列明问题、责任人和整改期限，按期书面回复。",
        deadline=today + timedelta(days=2), created_by_id=admin_id, created_at=now - timedelta(days=1))
    order.targets = [SupervisionTarget(unit_id=station.id)]
    if sibling.id != station.id:
        answer = _person(session, sibling)
        order.targets.append(SupervisionTarget(
            unit_id=sibling.id, response_text="已完成专项自查，发现问题 3 条，均已登记整改台账并明确责任人和期限。",
            responded_at=now - timedelta(hours=5), responded_by_id=answer.id if answer else None))
    session.add(order)
    session.flush()
