"""Demo and synthetic data (issue #2 item 7) and the contract accounts."""
from __future__ import annotations

from sqlalchemy import func, select

from app.db import db
from app.models import Unit, User


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_seed_demo_contract_accounts(app):
    """seed demo creates Taiyuan's units and the four demo accounts with the demo password."""
    result = invoke(app, "seed", "demo")
    assert result.exit_code == 0, result.output
    with app.app_context():
        s = db.session
        assert 40 <= s.scalar(select(func.count(Unit.id))) <= 80
        names = set(s.scalars(select(Unit.name)))
        for branch in ("小店分局", "迎泽分局", "杏花岭分局", "尖草坪分局", "万柏林分局", "晋源分局",
                       "古交市公安局", "清徐县公安局", "阳曲县公安局", "娄烦县公安局",
                       "太原市中级人民法院", "太原市人民检察院", "太原市司法局"):
            assert branch in names
        accounts = {u.username: u for u in s.scalars(select(User).where(
            User.username.in_(["admin", "leader", "supervisor", "officer"])))}
        assert {u: a.role for u, a in accounts.items()} == {
            "admin": "admin", "leader": "leader", "supervisor": "supervisor", "officer": "officer"}
        sup, off = accounts["supervisor"], accounts["officer"]
        assert sup.unit.level == "branch"
        assert off.unit.level == "station" and off.unit.path.startswith(sup.unit.path)
        assert s.scalar(select(func.count(User.id)).where(User.role == "officer")) > 300
    client = app.test_client()
    for name in ("admin", "leader", "supervisor", "officer"):
        resp = client.post("/login", data={"username": name, "password": "tiejun2021"})
        assert resp.status_code == 302, name
        client.post("/logout")


def test_seed_demo_refuses_existing_data(app):
    """seed demo on a database with data refuses; --if-empty skips quietly."""
    assert invoke(app, "seed", "demo").exit_code == 0
    again = invoke(app, "seed", "demo")
    assert again.exit_code != 0 and "新数据库" in again.output
    assert invoke(app, "seed", "demo", "--if-empty").exit_code == 0


def test_demo_password_from_env(make_app):
    """DEMO_PASSWORD sets the demo accounts' password."""
    app = make_app(DEMO_PASSWORD="another demo pass")
    invoke(app, "seed", "demo")
    resp = app.test_client().post("/login", data={"username": "officer", "password": "another demo pass"})
    assert resp.status_code == 302


def test_seed_city_scale_and_names(app):
    """seed city makes about N/33 units and N officers named officer00001…"""
    result = invoke(app, "seed", "city", "--officers", "660", "--weeks", "1")
    assert result.exit_code == 0, result.output
    with app.app_context():
        s = db.session
        units = s.scalar(select(func.count(Unit.id)))
        assert 15 <= units <= 30
        officers = s.scalars(select(User.username).where(User.username.like("officer0%")).order_by(User.username)).all()
        assert len(officers) == 660 and officers[0] == "officer00001" and officers[-1] == "officer00660"
        assert s.scalar(select(func.count(User.id)).where(User.username.in_(["admin", "leader", "supervisor", "officer"]))) == 4
    resp = app.test_client().post("/login", data={"username": "officer00042", "password": "tiejun2021"})
    assert resp.status_code == 302
