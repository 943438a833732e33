"""Campaign tasks (issue #6): officer flow, proof photos (A34, A16), review with notices, audit (A31)."""
from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.db import db
from app.models import AuditLog, Notification, Task, TaskSubmission, User
from app.tasks import services


@pytest.fixture
def tasks(app, city, clock):
    """Stage 查纠整改 running now; a city-wide reflection (min 20 chars), a proof task for the
    city, and an optional proof task of branch B."""
    with app.app_context():
        s = db.session
        admin = s.get(User, city.users["admin"])
        today = date(2026, 3, 9)
        services.save_stage(s, admin, "study", today - timedelta(days=30), today - timedelta(days=1), "学")
        stage = services.save_stage(s, admin, "rectify", today, today + timedelta(days=30), "查纠整改要求")
        due = clock.now + timedelta(days=3)
        reflection = services.create_task(s, admin, stage_id=stage.id, kind="reflection", required=True,
                                          title="撰写学习心得", description="", target_unit_id=None, due_at=due,
                                          item_id=None, min_chars=20)
        proof = services.create_task(s, admin, stage_id=stage.id, kind="proof", required=True, title="自查佐证",
                                     description="", target_unit_id=None, due_at=clock.now - timedelta(days=1),
                                     item_id=None, min_chars=0)
        b_only = services.create_task(s, s.get(User, city.users["supervisor_b"]), stage_id=stage.id, kind="proof",
                                      required=False, title="乙分局自选", description="",
                                      target_unit_id=city.branch_b, due_at=due, item_id=None, min_chars=0)
        s.commit()
        return {"reflection": reflection.id, "proof": proof.id, "b_only": b_only.id}


def jpeg(size=(2400, 1800), gps=False, noise=False) -> bytes:
    img = Image.effect_noise(size, 80).convert("RGB") if noise else Image.new("RGB", size, (30, 90, 160))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"
        gps_ifd = {1: "N", 2: (37.0, 52.0, 12.0), 3: "E", 4: (112.0, 33.0, 1.0)}
        exif[0x8825] = gps_ifd
        img.save(out, format="JPEG", exif=exif.tobytes())
    else:
        img.save(out, format="JPEG")
    return out.getvalue()


def photo_files(app) -> list[Path]:
    folder = Path(app.config["INSTANCE_PATH"]) / "media" / "tasks"
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.exists() else []


def submission(app, task_id, user_id):
    with app.app_context():
        return db.session.scalar(select(TaskSubmission).where(TaskSubmission.task_id == task_id,
                                                              TaskSubmission.user_id == user_id))


def officer_client(app, auth, username="officer"):
    client = app.test_client()
    auth.login(client, username)
    return client


def test_officer_sees_tasks_overdue_plainly_and_not_other_branches(app, city, auth, tasks):
    """Officers see this stage's tasks, the overdue one marked, never another subtree's optional task."""
    client = officer_client(app, auth)
    body = client.get("/tasks/").get_data(as_text=True)
    assert "撰写学习心得" in body and "自查佐证" in body and "已逾期" in body
    assert "乙分局自选" not in body
    assert client.get(f"/tasks/{tasks['b_only']}").status_code == 404
    home = client.get("/home").get_data(as_text=True)
    assert "当前阶段：查纠整改" in home and "已完成 0 / 2" in home
    other = officer_client(app, auth, "officer_b")
    assert "乙分局自选" in other.get("/tasks/").get_data(as_text=True)


def test_draft_survives_reload_and_short_reflection_is_refused(app, city, auth, tasks):
    """A draft is kept on the server; a reflection under its minimum length is not submitted."""
    client = officer_client(app, auth)
    url = f"/tasks/{tasks['reflection']}"
    assert client.post(url, data={"text": "草稿里的第一句话", "action": "draft"}).status_code == 302
    assert "草稿里的第一句话" in client.get(url).get_data(as_text=True)
    resp = client.post(url, data={"text": "太短了", "action": "submit"})
    assert resp.status_code == 422 and "至少需要 20 字" in resp.get_data(as_text=True)
    sub = submission(app, tasks["reflection"], city.users["officer"])
    assert sub.status == "draft" and sub.text == "太短了"
    text = "学习之后我认真对照检查了自己在执法办案中的不足，决心立行立改。"
    assert client.post(url, data={"text": text, "action": "submit"}).status_code == 302
    assert submission(app, tasks["reflection"], city.users["officer"]).status == "submitted"
    # Submitted work is locked until reviewed.
    client.post(url, data={"text": "改掉", "action": "draft"})
    assert submission(app, tasks["reflection"], city.users["officer"]).text == text


def test_a34_photo_resized_reencoded_and_gps_stripped(app, city, auth, tasks):
    """A34: a proof photo is stored under a random name, ≤1600 px, re-encoded without EXIF/GPS."""
    client = officer_client(app, auth)
    raw = jpeg(gps=True)
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the sample really has GPS
    resp = client.post(f"/tasks/{tasks['proof']}", content_type="multipart/form-data", data={
        "text": "自查报告", "action": "submit", "photos": (io.BytesIO(raw), "../../x.html")})
    assert resp.status_code == 302
    sub = submission(app, tasks["proof"], city.users["officer"])
    assert sub.status == "submitted" and len(sub.photos) == 1
    stored = photo_files(app)
    assert [p.name for p in stored] == sub.photos and "x.html" not in sub.photos[0]
    img = Image.open(stored[0])
    assert img.format == "JPEG" and max(img.size) <= 1600
    assert not img.getexif() and "exif" not in img.info
    served = client.get(f"/tasks/submissions/{sub.id}/photos/0")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a34_disguised_or_oversized_upload_refused_nothing_stored(make_app, city, auth, tasks):
    """A34: an HTML page named .jpg, a photo over the cap and a body over the request cap are
    refused with a clear message, and no file or row is stored."""
    app = make_app(TASK_PHOTO_MAX_BYTES=60_000)
    client = officer_client(app, auth)
    url = f"/tasks/{tasks['proof']}"
    resp = client.post(url, content_type="multipart/form-data", data={
        "text": "x", "action": "submit", "photos": (io.BytesIO(b"<html><script>alert(1)</script></html>"), "p.jpg")})
    assert resp.status_code == 422 and "不是照片" in resp.get_data(as_text=True)
    big = jpeg(size=(800, 800), noise=True)
    assert len(big) > 60_000
    resp = client.post(url, content_type="multipart/form-data", data={
        "text": "x", "action": "submit", "photos": (io.BytesIO(big), "p.jpg")})
    assert resp.status_code == 422 and "上限" in resp.get_data(as_text=True)
    huge = b"\xff\xd8\xff" + b"0" * (3 * 60_000 + 300_000)
    resp = client.post(url, content_type="multipart/form-data", data={
        "action": "submit", "photos": (io.BytesIO(huge), "p.jpg")})
    assert resp.status_code == 413 and "没有保存任何内容" in resp.get_data(as_text=True)
    assert photo_files(app) == []
    assert submission(app, tasks["proof"], city.users["officer"]) is None or \
        submission(app, tasks["proof"], city.users["officer"]).photos == []


def _submit_proof(app, auth, tasks, username="officer"):
    client = officer_client(app, auth, username)
    client.post(f"/tasks/{tasks['proof']}", content_type="multipart/form-data", data={
        "text": "佐证", "action": "submit", "photos": (io.BytesIO(jpeg(size=(400, 300))), "a.jpg")})
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == username))
    return client, submission(app, tasks["proof"], uid)


def test_a16_others_never_see_a_proof(app, city, auth, tasks):
    """A16: another officer and a supervisor of another branch get 404 for a proof; the owner's
    own supervisor sees it."""
    _client, sub = _submit_proof(app, auth, tasks)
    url = f"/tasks/submissions/{sub.id}/photos/0"
    assert officer_client(app, auth, "officer2").get(url).status_code == 404
    sup_b = app.test_client()
    auth.login(sup_b, "supervisor_b")
    assert sup_b.get(url).status_code == 404
    assert sup_b.get(f"/tasks/review/{sub.id}").status_code == 404
    assert sup_b.post(f"/tasks/review/{sub.id}", data={"action": "accept"}).status_code == 404
    assert "佐证" not in sup_b.get("/tasks/review").get_data(as_text=True)
    assert submission(app, tasks["proof"], city.users["officer"]).status == "submitted"
    sup = app.test_client()
    auth.login(sup, "supervisor")
    assert sup.get(url).status_code == 200
    assert "自查佐证" in sup.get("/tasks/review").get_data(as_text=True)


def test_a31_return_notifies_resubmit_and_accept_are_audited(app, city, auth, tasks):
    """A31: a return with a comment notifies the officer, who fixes and resubmits; every review
    writes one task.review audit row."""
    officer, sub = _submit_proof(app, auth, tasks)
    sup = app.test_client()
    auth.login(sup, "supervisor")
    assert sup.post(f"/tasks/review/{sub.id}", data={"action": "return", "comment": ""}).status_code == 302
    assert submission(app, tasks["proof"], city.users["officer"]).status == "submitted"  # comment required
    assert sup.post(f"/tasks/review/{sub.id}", data={"action": "return", "comment": "照片不清晰，请重拍"}).status_code == 302
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.user_id == city.users["officer"],
                                                            Notification.kind == "task_returned"))
        assert note is not None and "照片不清晰" in note.body and note.link == f"/tasks/{tasks['proof']}"
    page = officer.get(f"/tasks/{tasks['proof']}").get_data(as_text=True)
    assert "照片不清晰，请重拍" in page
    resp = officer.post(f"/tasks/{tasks['proof']}", content_type="multipart/form-data", data={
        "text": "已重拍", "action": "submit", "remove_photo": sub.photos[0],
        "photos": (io.BytesIO(jpeg(size=(500, 400))), "b.jpg")})
    assert resp.status_code == 302
    again = submission(app, tasks["proof"], city.users["officer"])
    assert again.status == "submitted" and again.text == "已重拍" and again.photos != sub.photos
    assert [p.name for p in photo_files(app)] == again.photos  # the replaced file is gone
    assert sup.post(f"/tasks/review/{sub.id}", data={"action": "accept"}).status_code == 302
    assert submission(app, tasks["proof"], city.users["officer"]).status == "accepted"
    with app.app_context():
        rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "task.review").order_by(AuditLog.id)).all()
        assert [(r.before["status"], r.after["status"]) for r in rows] == [("submitted", "returned"),
                                                                           ("submitted", "accepted")]
        assert all(r.actor_name == "supervisor" and r.target_id == str(sub.id) for r in rows)


def test_a31_supervisor_creates_optional_task_only_in_own_subtree(app, city, auth, tasks, clock):
    """A31: supervisors create optional tasks for their own subtree only, audited; another
    branch is refused; the admin's tasks are required."""
    sup = app.test_client()
    auth.login(sup, "supervisor")
    with app.app_context():
        stage_id = db.session.scalar(select(Task.stage_id).where(Task.id == tasks["reflection"]))
    form = {"stage_id": stage_id, "kind": "event", "title": "甲分局党课", "description": "", "item_id": 0,
            "min_chars": 0, "due_at": "2026-03-20T18:00"}
    assert sup.post("/tasks/manage", data={**form, "target_unit_id": city.branch_b}).status_code in (403, 422)
    assert sup.post("/tasks/manage", data={**form, "target_unit_id": city.branch_a}).status_code == 302
    admin = app.test_client()
    auth.login(admin, "admin")
    assert admin.post("/tasks/manage", data={**form, "title": "全市警示教育大会", "target_unit_id": 0}).status_code == 302
    with app.app_context():
        s = db.session
        mine = s.scalar(select(Task).where(Task.title == "甲分局党课"))
        city_task = s.scalar(select(Task).where(Task.title == "全市警示教育大会"))
        assert mine.required is False and mine.target_unit_id == city.branch_a
        assert city_task.required is True and city_task.target_unit_id is None
        assert s.scalar(select(func.count()).select_from(Task).where(Task.title == "甲分局党课")) == 1
        assert s.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "task.create",
                                                              AuditLog.actor_name == "supervisor")) == 1
    assert "甲分局党课" in officer_client(app, auth).get("/tasks/").get_data(as_text=True)
    assert "甲分局党课" not in officer_client(app, auth, "officer_b").get("/tasks/").get_data(as_text=True)


def test_admin_defines_stages_audited(app, city, auth):
    """A31: the campaign office saves a stage with its dates; the change is audited."""
    admin = app.test_client()
    auth.login(admin, "admin")
    resp = admin.post("/tasks/stages", data={"code": "study", "starts_on": "2026-03-01", "ends_on": "2026-03-31",
                                             "description": "学习教育阶段"})
    assert resp.status_code == 302
    assert admin.post("/tasks/stages", data={"code": "rectify", "starts_on": "2026-04-10",
                                             "ends_on": "2026-04-01"}).status_code == 422
    assert "学习教育" in admin.get("/tasks/stages").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "campaign.stage")) == 1


def test_task_completion_rate_feeds_unit_scores(app, city, auth, tasks, clock):
    """Issue 6: accepted submissions / tasks due by the week's end per officer move the unit's
    task_completion_rate; no rate while no task was due."""
    from app.reports.queries import officer_rows, unit_rows
    from app.timeutils import week_key

    officer, sub = _submit_proof(app, auth, tasks)
    sup = app.test_client()
    auth.login(sup, "supervisor")
    sup.post(f"/tasks/review/{sub.id}", data={"action": "accept"})
    with app.app_context():
        s = db.session
        week = week_key(clock.now)
        rows = {r.unit_id: r for r in unit_rows(s, week, clock.now)}
        # Station A1: 2 officers × 2 city tasks due this week (the B task is not theirs); 1 accepted.
        assert rows[city.station_a1].task_completion_rate == pytest.approx(1 / 4)
        assert rows[city.station_b1].task_completion_rate == 0.0
        from app.models import Unit
        mine = [r for r in officer_rows(s, week, clock.now, s.get(Unit, city.station_a1)) if r["name"] == "officer"]
        assert mine[0]["tasks_done"] == 1
        earlier = week_key(clock.now - timedelta(days=14))
        assert all(r.task_completion_rate is None for r in unit_rows(s, earlier, clock.now))


def test_withdrawn_task_leaves_the_unit_scores(app, city, auth, tasks, clock):
    """Issue 6: a withdrawn task counts on neither side of task_completion_rate (officers can no longer do it)."""
    from app.reports.queries import unit_rows
    from app.timeutils import week_key

    _officer, sub = _submit_proof(app, auth, tasks)
    sup = app.test_client()
    auth.login(sup, "supervisor")
    sup.post(f"/tasks/review/{sub.id}", data={"action": "accept"})
    admin = app.test_client()
    auth.login(admin, "admin")
    assert admin.post(f"/tasks/manage/{tasks['reflection']}/withdraw").status_code == 302
    with app.app_context():
        rows = {r.unit_id: r for r in unit_rows(db.session, week_key(clock.now), clock.now)}
        # Station A1: 2 officers × the one remaining city task; 1 accepted.
        assert rows[city.station_a1].task_completion_rate == pytest.approx(1 / 2)
        assert db.session.get(Task, tasks["reflection"]).withdrawn_by_id == city.users["admin"]
    assert admin.post(f"/tasks/manage/{tasks['reflection']}/restore").status_code == 302
    with app.app_context():
        rows = {r.unit_id: r for r in unit_rows(db.session, week_key(clock.now), clock.now)}
        assert rows[city.station_a1].task_completion_rate == pytest.approx(1 / 4)


# --- editing, deleting and withdrawing tasks (issue 6 follow-up) --------------------------------

def staff_client(app, auth, username):
    client = app.test_client()
    auth.login(client, username)
    return client


def audit_rows(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def test_a31_task_edit_within_scope_is_audited(app, city, auth, tasks):
    """A supervisor edits their own subtree's optional task (title, due date, target) and never a
    required task or another branch's; the admin edits a required one; each change is one
    task.update audit row with the fields before and after."""
    sup_b = staff_client(app, auth, "supervisor_b")
    url = f"/tasks/manage/{tasks['b_only']}"
    page = sup_b.get(url)
    assert page.status_code == 200 and "乙分局自选" in page.get_data(as_text=True)
    form = {"title": "乙分局自选（改）", "description": "走访一次", "target_unit_id": city.station_b1, "min_chars": 0,
            "due_at": "2026-03-20T18:00"}
    assert sup_b.post(url, data=form).status_code == 302
    # Out of scope: another branch as the target, the city as a whole, a required task.
    assert sup_b.post(url, data={**form, "target_unit_id": city.branch_a}).status_code in (403, 422)
    assert sup_b.post(url, data={**form, "target_unit_id": 0}).status_code in (403, 422)
    assert sup_b.get(f"/tasks/manage/{tasks['reflection']}").status_code == 403
    assert sup_b.post(f"/tasks/manage/{tasks['reflection']}", data={**form, "title": "改规定动作"}).status_code == 403
    denied = audit_rows(app, "access.denied")
    assert denied and denied[-1].actor_name == "supervisor_b" and denied[-1].target_id == str(tasks["reflection"])
    sup_a = staff_client(app, auth, "supervisor")
    assert sup_a.get(url).status_code == 404
    assert sup_a.post(url, data={**form, "title": "偷改"}).status_code == 404
    assert officer_client(app, auth, "officer_b").get(url).status_code in (403, 404)
    admin = staff_client(app, auth, "admin")
    assert admin.post(f"/tasks/manage/{tasks['reflection']}", data={
        "title": "撰写学习心得", "description": "不少于 30 字", "target_unit_id": 0, "min_chars": 30,
        "due_at": "2026-03-12T18:00"}).status_code == 302
    with app.app_context():
        s = db.session
        b_task, reflection = s.get(Task, tasks["b_only"]), s.get(Task, tasks["reflection"])
        assert (b_task.title, b_task.target_unit_id, b_task.description) == ("乙分局自选（改）", city.station_b1, "走访一次")
        assert b_task.due_at.isoformat() == "2026-03-20T10:00:00"  # 18:00 Beijing time, stored as UTC
        assert reflection.min_chars == 30 and reflection.target_unit_id is None and reflection.required is True
    rows = audit_rows(app, "task.update")
    assert [(r.actor_name, r.target_id) for r in rows] == [("supervisor_b", str(tasks["b_only"])),
                                                          ("admin", str(tasks["reflection"]))]
    assert rows[0].before["title"] == "乙分局自选" and rows[0].after["title"] == "乙分局自选（改）"
    assert rows[0].after["target_unit_id"] == city.station_b1
    assert set(rows[1].after) == {"description", "min_chars", "due_at"}
    assert "乙分局自选（改）" in officer_client(app, auth, "officer_b").get("/tasks/").get_data(as_text=True)


def test_a31_delete_only_unstarted_tasks_else_withdraw_keeps_submissions(app, city, auth, tasks):
    """A task nobody has touched is deleted; once an officer has a submission (even a draft) it
    can only be withdrawn: officers no longer see it, the submission stays for review. Delete,
    withdraw and restore are audited."""
    admin = staff_client(app, auth, "admin")
    sup_b = staff_client(app, auth, "supervisor_b")
    # Nobody started the B task: its supervisor deletes it.
    assert sup_b.post(f"/tasks/manage/{tasks['b_only']}/delete").status_code == 302
    # A supervisor may not delete or withdraw the campaign office's task.
    assert sup_b.post(f"/tasks/manage/{tasks['proof']}/delete").status_code == 403
    assert sup_b.post(f"/tasks/manage/{tasks['proof']}/withdraw").status_code == 403
    officer, sub = _submit_proof(app, auth, tasks)
    draft_client = officer_client(app, auth, "officer2")
    draft_client.post(f"/tasks/{tasks['reflection']}", data={"text": "还没写完", "action": "draft"})
    for key in ("proof", "reflection"):
        resp = admin.post(f"/tasks/manage/{tasks[key]}/delete", follow_redirects=True)
        assert "不能删除" in resp.get_data(as_text=True)
    assert admin.post(f"/tasks/manage/{tasks['proof']}/withdraw").status_code == 302
    with app.app_context():
        s = db.session
        assert s.get(Task, tasks["b_only"]) is None
        assert s.get(Task, tasks["proof"]) is not None and s.get(Task, tasks["reflection"]) is not None
        assert s.get(TaskSubmission, sub.id).status == "submitted"
    listing = officer.get("/tasks/").get_data(as_text=True)
    assert "自查佐证" not in listing and "撰写学习心得" in listing
    assert officer.get(f"/tasks/{tasks['proof']}").status_code == 404
    assert "已完成 0 / 1" in officer.get("/home").get_data(as_text=True)
    assert officer.get(f"/tasks/submissions/{sub.id}/photos/0").status_code == 200  # still their own record
    sup = staff_client(app, auth, "supervisor")
    assert "自查佐证" in sup.get("/tasks/review").get_data(as_text=True)
    assert sup.post(f"/tasks/review/{sub.id}", data={"action": "accept"}).status_code == 302
    manage = admin.get("/tasks/manage").get_data(as_text=True)
    assert "已撤回" in manage
    assert admin.post(f"/tasks/manage/{tasks['proof']}/restore").status_code == 302
    assert "自查佐证" in officer.get("/tasks/").get_data(as_text=True)
    rows = audit_rows(app, "task.delete")
    assert len(rows) == 1 and rows[0].actor_name == "supervisor_b" and rows[0].before["title"] == "乙分局自选"
    assert [r.actor_name for r in audit_rows(app, "task.withdraw")] == ["admin"]
    assert audit_rows(app, "task.withdraw")[0].after["submissions"] == 1
    assert [r.actor_name for r in audit_rows(app, "task.restore")] == ["admin"]


def test_withdrawn_task_refuses_officer_posts(app, city, auth, tasks):
    """A withdrawn task takes no more drafts or submissions."""
    admin = staff_client(app, auth, "admin")
    assert admin.post(f"/tasks/manage/{tasks['reflection']}/withdraw").status_code == 302
    officer = officer_client(app, auth)
    assert officer.post(f"/tasks/{tasks['reflection']}", data={"text": "x", "action": "draft"}).status_code == 404
    assert submission(app, tasks["reflection"], city.users["officer"]) is None
    # Withdrawing twice says so and writes nothing more.
    resp = admin.post(f"/tasks/manage/{tasks['reflection']}/withdraw", follow_redirects=True)
    assert "已经撤回" in resp.get_data(as_text=True) and len(audit_rows(app, "task.withdraw")) == 1


# --- attendance of event tasks (参加活动) ----------------------------------------------------------

@pytest.fixture
def lecture(app, city, tasks, clock):
    """A city-wide party lecture (event task); officer has submitted a sign-in note."""
    with app.app_context():
        s = db.session
        stage_id = s.scalar(select(Task.stage_id).where(Task.id == tasks["reflection"]))
        task = services.create_task(s, s.get(User, city.users["admin"]), stage_id=stage_id, kind="event",
                                    required=True, title="专题党课", description="", target_unit_id=None,
                                    due_at=clock.now + timedelta(days=1), item_id=None, min_chars=0)
        s.commit()
        return task.id


def test_attendance_list_shows_who_in_the_subtree_has_not_confirmed(app, city, auth, lecture):
    """The supervisor sees, per event task, the officers of their subtree: confirmed, waiting,
    not yet; never officers of another branch."""
    officer = officer_client(app, auth)
    officer.post(f"/tasks/{lecture}", data={"text": "已参加，坐第三排", "action": "submit"})
    sup = staff_client(app, auth, "supervisor")
    events = sup.get("/tasks/events").get_data(as_text=True)
    assert "专题党课" in events and "共 3 人" in events and "待确认 1" in events
    page = sup.get(f"/tasks/events/{lecture}?status=all").get_data(as_text=True)
    for name in ("officer", "officer2", "officer_a2"):
        assert f'<span class="tk-attend__name">{name}</span>' in page
    assert "officer_b" not in page and "officer_c" not in page
    waiting = sup.get(f"/tasks/events/{lecture}?status=submitted").get_data(as_text=True)
    assert '<span class="tk-attend__name">officer</span>' in waiting and ">officer2<" not in waiting
    open_rows = sup.get(f"/tasks/events/{lecture}?status=open&unit={city.station_a2}").get_data(as_text=True)
    assert ">officer_a2<" in open_rows and ">officer2<" not in open_rows
    # Not an event task, or an officer asking: nothing.
    with app.app_context():
        reflection = db.session.scalar(select(Task.id).where(Task.kind == "reflection"))
    assert sup.get(f"/tasks/events/{reflection}").status_code == 404
    assert officer.get(f"/tasks/events/{lecture}").status_code in (403, 404)
    sup_b = staff_client(app, auth, "supervisor_b")
    page_b = sup_b.get(f"/tasks/events/{lecture}?status=all").get_data(as_text=True)
    assert ">officer_b<" in page_b and ">officer<" not in page_b


def test_a31_bulk_confirm_attendance_audited_and_scoped(app, city, auth, lecture):
    """Bulk accept: the supervisor confirms several officers at once (a waiting submission is
    accepted, an officer with none gets an accepted one); one audit row each; any officer out of
    scope refuses the whole request."""
    officer = officer_client(app, auth)
    officer.post(f"/tasks/{lecture}", data={"text": "已参加", "action": "submit"})
    sup = staff_client(app, auth, "supervisor")
    ids = [city.users["officer"], city.users["officer2"]]
    resp = sup.post(f"/tasks/events/{lecture}", data={"user_id": ids + [city.users["officer_b"]]},
                    follow_redirects=True)
    assert "不在您的管辖范围内" in resp.get_data(as_text=True)
    assert [r.target_id for r in audit_rows(app, "access.denied")] == [str(lecture)]
    assert submission(app, lecture, city.users["officer2"]) is None
    assert submission(app, lecture, city.users["officer"]).status == "submitted"
    resp = sup.post(f"/tasks/events/{lecture}", data={"user_id": ids}, follow_redirects=True)
    assert "已确认 2 人参加" in resp.get_data(as_text=True)
    for uid in ids:
        sub = submission(app, lecture, uid)
        assert sub.status == "accepted" and sub.reviewed_by_id == city.users["supervisor"]
    rows = audit_rows(app, "task.attendance")
    assert sorted((r.before["status"], r.after["user_id"]) for r in rows) == sorted(
        [("submitted", city.users["officer"]), ("todo", city.users["officer2"])])
    assert all(r.actor_name == "supervisor" for r in rows)
    # Confirming again changes nothing and writes nothing.
    resp = sup.post(f"/tasks/events/{lecture}", data={"user_id": ids}, follow_redirects=True)
    assert "已确认 0 人参加" in resp.get_data(as_text=True) and len(audit_rows(app, "task.attendance")) == 2
    assert "已确认 2" in sup.get("/tasks/events").get_data(as_text=True)
    # The officer sees the task done.
    assert "已通过" in officer_client(app, auth, "officer2").get(f"/tasks/{lecture}").get_data(as_text=True)
    # Nothing selected; a task that is not an event.
    resp = sup.post(f"/tasks/events/{lecture}", data={}, follow_redirects=True)
    assert "请先勾选" in resp.get_data(as_text=True)


def test_supervisor_never_changes_a_task_set_from_above(app, city, auth, tasks, clock):
    """A station's supervisor may not edit or withdraw the branch supervisor's optional task aimed
    at their station; the branch supervisor may change the station supervisor's own task."""
    from tests.factories import make_user

    from app.models import Unit

    with app.app_context():
        s = db.session
        station_sup = make_user(s, "sup_a1", s.get(Unit, city.station_a1), "supervisor")
        stage_id = s.scalar(select(Task.stage_id).where(Task.id == tasks["reflection"]))
        common = dict(stage_id=stage_id, kind="proof", required=False, description="", target_unit_id=city.station_a1,
                      due_at=clock.now + timedelta(days=2), item_id=None, min_chars=0)
        from_branch = services.create_task(s, s.get(User, city.users["supervisor"]), title="分局布置给甲一所", **common)
        own = services.create_task(s, station_sup, title="甲一所自己的", **common)
        s.commit()
        from_branch_id, own_id = from_branch.id, own.id
    station = staff_client(app, auth, "sup_a1")
    assert station.get(f"/tasks/manage/{from_branch_id}").status_code == 403
    assert station.post(f"/tasks/manage/{from_branch_id}/withdraw").status_code == 403
    assert station.get(f"/tasks/manage/{own_id}").status_code == 200
    branch = staff_client(app, auth, "supervisor")
    assert branch.post(f"/tasks/manage/{own_id}/withdraw").status_code == 302
    manage = station.get("/tasks/manage").get_data(as_text=True)
    assert f"/tasks/manage/{own_id}" in manage and f"/tasks/manage/{from_branch_id}\"" not in manage
