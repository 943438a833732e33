"""Sign-in throttling an attacker cannot turn against officers: QUALITY A35 (ASVS 4.0.3 V2.2.1).

Numbers are the defaults of config.py: 5 wrong passwords per (username, address) pause that
pair for 15 minutes; past 10 an hour per username each one delays it 1 minute; past 100 refusals
in 15 minutes an address is flooding. The rule itself is ``app.auth.services.throttle_wait``.
"""
from __future__ import annotations

import http.client
import re
import threading
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

import app.auth.services as auth_services
from app.db import db
from app.models import LoginThrottle
from tests.factories import PASSWORD

WRONG = "wrong password 123"


def sign_in(app, username: str, password: str = PASSWORD, addr: str = "127.0.0.1", headers=None):
    """One sign-in with a fresh client from ``addr`` (the TCP peer as the app sees it)."""
    client = app.test_client()
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": addr}, headers=headers or {})


def throttles(app) -> dict[tuple[str, str], tuple[int, object]]:
    with app.app_context():
        rows = db.session.scalars(select(LoginThrottle)).all()
        return {(r.kind, r.key): (r.failures, r.blocked_until) for r in rows}


def test_a35_failures_from_elsewhere_do_not_lock_the_officer_out(app, city):
    """A35: 50 wrong passwords for `officer` from another address; the officer still signs in at once from their own."""
    statuses = [sign_in(app, "officer", WRONG, addr="127.0.0.2").status_code for _ in range(50)]
    assert statuses == [200] * 5 + [429] * 45  # the sender is paused, nobody else
    assert sign_in(app, "officer", addr="127.0.0.1").status_code == 302


class _HttpClient:
    """A browser-like client over a real TCP connection from ``source`` (cookie + CSRF token)."""

    def __init__(self, port: int, source: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        text = resp.read().decode()
        if (cookie := resp.getheader("Set-Cookie")) and cookie.startswith("session="):
            self.cookie = cookie.split(";", 1)[0]
        return resp, text

    def sign_in(self, username: str, password: str) -> int:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                          r'name="csrf-token" content="([^"]+)"', page)
        form = {"username": username, "password": password, "csrf_token": token.group(1) or token.group(2)}
        resp, _ = self.request("POST", "/login", urlencode(form))
        return resp.status


@pytest.fixture
def served(make_app, city):
    """The app with CSRF on, served over real HTTP on 127.0.0.1 (port chosen by the kernel)."""
    application = make_app(WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield application, server.server_port
    server.shutdown()
    thread.join(timeout=10)


def test_a35_failures_from_elsewhere_over_real_http(served):
    """A35 over TCP: 50 failures sent from source address 127.0.0.2 do not stop the officer signing in from 127.0.0.1."""
    application, port = served
    attacker = _HttpClient(port, "127.0.0.2")
    statuses = [attacker.sign_in("officer", WRONG) for _ in range(50)]
    assert statuses == [200] * 5 + [429] * 45
    assert _HttpClient(port, "127.0.0.1").sign_in("officer", PASSWORD) == 302
    assert ("pair", "officer|127.0.0.2") in throttles(application)  # the peer address, as the kernel gave it


def test_a35_station_nat_colleague_signs_in_at_once(app, city):
    """A35: 101 failures on one account from one address; a colleague there signs in at once, the failing account stays throttled there."""
    nat = "10.20.30.40"
    statuses = [sign_in(app, "officer", WRONG, addr=nat).status_code for _ in range(101)]
    assert statuses.count(200) == 5 and statuses.count(429) == 96
    assert throttles(app)[("address", nat)][0] == 101  # the address limit (100) was passed
    assert sign_in(app, "officer2", addr=nat).status_code == 302
    assert sign_in(app, "officer_b", addr=nat).status_code == 302
    refused = sign_in(app, "officer", addr=nat)  # the right password, from the flooding address
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_a35_flooding_address_pauses_an_account_after_one_failure(app, city):
    """A35: while an address floods, an account that fails there once is paused there; elsewhere it is not."""
    nat = "10.20.30.41"
    for _ in range(101):
        sign_in(app, "nobody_at_all", WRONG, addr=nat)
    assert sign_in(app, "officer_b", WRONG, addr=nat).status_code == 200  # checked: a first failure
    second = sign_in(app, "officer_b", addr=nat)
    assert second.status_code == 429 and "尝试次数过多" in second.get_data(as_text=True)
    assert sign_in(app, "officer_b", addr="10.99.0.1").status_code == 302  # the officer's own device


def _normalised(resp, username: str) -> tuple:
    body = resp.get_data(as_text=True).replace(username, "USERNAME")
    body = re.sub(r'(csrf[-_]token"[^>]*(?:value|content)=")[^"]*', r"\1", body)
    body = re.sub(r'nonce="[^"]*"', 'nonce=""', body)
    headers = {k: v for k, v in resp.headers.items() if k.lower() not in ("set-cookie", "content-security-policy",
                                                                          "x-request-id")}
    return resp.status_code, headers, body


def test_a35_unknown_and_real_accounts_answer_identically(app, city, monkeypatch):
    """A35: an unknown username and a real one get the same status, body, headers and number of hashes at every stage."""
    hashes = []
    real_verify = auth_services.verify_password
    monkeypatch.setattr(auth_services, "verify_password", lambda *a: hashes.append(1) or real_verify(*a))

    def stages(username: str, net: str) -> list[tuple]:
        seen = []
        # 5 failures from one address, then that pair is paused; 5 more from a second address
        # reach the account-wide count; then the account is delayed from a third address.
        for addr in [f"{net}.1"] * 6 + [f"{net}.2"] * 5 + [f"{net}.3"]:
            hashes.clear()
            resp = sign_in(app, username, WRONG, addr=addr)
            seen.append((*_normalised(resp, username), len(hashes)))
        return seen

    real, unknown = stages("officer", "10.1.0"), stages("offixer", "10.2.0")  # same length: same body bytes
    assert real == unknown
    assert [(s[0], s[1].get("Retry-After"), s[3]) for s in real] == (
        [(200, None, 1)] * 5 + [(429, "900", 0)] + [(200, None, 1)] * 5 + [(429, "60", 0)])
    assert "尝试次数过多，请 15 分钟后再试。" in real[5][2] and "请 1 分钟后再试" in real[11][2]
    assert "账号或密码不正确" in real[0][2]


def test_a35_account_wide_limit_delays_but_never_locks(app, city, clock):
    """A35: past 10 failures an hour from anywhere the account is delayed a minute; then the right password works."""
    for i in range(10):
        assert sign_in(app, "officer", WRONG, addr=f"10.3.0.{i}").status_code == 200
    delayed = sign_in(app, "officer", addr="127.0.0.1")
    assert delayed.status_code == 429 and delayed.headers["Retry-After"] == "60"
    clock.advance(seconds=61)
    assert sign_in(app, "officer", addr="127.0.0.1").status_code == 302


def test_a35_account_guesses_capped_below_100_an_hour(app, city, clock):
    """A35/V2.2.1: a guess every 10 s from fresh addresses gets fewer than 100 checked an hour; the officer still signs in."""
    checked = 0
    for i in range(360):
        resp = sign_in(app, "officer", WRONG, addr=f"10.4.{i // 200}.{i % 200}")
        checked += resp.status_code == 200
        clock.advance(seconds=10)
    assert checked <= 80
    clock.advance(seconds=60)
    assert sign_in(app, "officer", addr="127.0.0.1").status_code == 302


def test_a35_windows_expire_with_the_clock(app, city, clock):
    """A35: a paused pair reopens after 15 minutes, a flood ends 15 minutes after its last refusal, the hour's count restarts."""
    for _ in range(5):
        sign_in(app, "officer", WRONG, addr="10.5.0.1")
    clock.advance(minutes=14)
    assert sign_in(app, "officer", addr="10.5.0.1").status_code == 429
    clock.advance(minutes=2)
    assert sign_in(app, "officer", addr="10.5.0.1").status_code == 302

    nat = "10.5.0.2"
    for _ in range(101):
        sign_in(app, "officer2", WRONG, addr=nat)
    sign_in(app, "officer_b", WRONG, addr=nat)
    assert sign_in(app, "officer_b", addr=nat).status_code == 429  # flooding: one failure pauses it
    clock.advance(minutes=16)
    assert sign_in(app, "officer_b", addr=nat).status_code == 302  # flood over
    assert sign_in(app, "officer2", addr=nat).status_code == 302  # its pair window is over too

    for i in range(9):
        sign_in(app, "officer_a2", WRONG, addr=f"10.5.1.{i}")
    clock.advance(minutes=61)
    for i in range(9):  # a new hour: 9 more are still below the account-wide count of 10
        assert sign_in(app, "officer_a2", WRONG, addr=f"10.5.2.{i}").status_code == 200
    assert sign_in(app, "officer_a2", addr="10.5.3.1").status_code == 302


def test_a35_expired_keys_are_forgotten(app, city, clock):
    """A35: typed usernames do not pile up: keys whose windows are over are deleted by later failures."""
    for i in range(30):
        sign_in(app, f"random{i}", WRONG, addr="10.6.0.1")
    assert len(throttles(app)) == 61  # 30 pairs, 30 usernames, 1 address
    clock.advance(hours=2)
    sign_in(app, "someone", WRONG, addr="10.6.0.2")
    assert set(throttles(app)) == {("pair", "someone|10.6.0.2"), ("account", "someone"), ("address", "10.6.0.2")}


def test_a35_x_forwarded_for_ignored_without_proxy_hops(make_app, city):
    """A35: with PROXY_HOPS = 0 a forged X-Forwarded-For neither escapes the throttle nor names the address."""
    app = make_app()
    assert app.config["PROXY_HOPS"] == 0
    for i in range(5):
        sign_in(app, "officer", WRONG, headers={"X-Forwarded-For": f"198.51.100.{i}"})
    resp = sign_in(app, "officer", headers={"X-Forwarded-For": "198.51.100.99"})
    assert resp.status_code == 429
    assert {key for kind, key in throttles(app) if kind == "address"} == {"127.0.0.1"}


def test_a35_x_forwarded_for_used_behind_a_trusted_proxy(make_app, city):
    """A35: with PROXY_HOPS = 1 the proxy's X-Forwarded-For is the client address the throttle uses."""
    app = make_app(PROXY_HOPS=1)
    for _ in range(5):
        sign_in(app, "officer", WRONG, headers={"X-Forwarded-For": "198.51.100.7"})
    assert sign_in(app, "officer", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429
    assert sign_in(app, "officer", headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 302


def test_a35_ipv6_clients_share_their_64(app, city):
    """A35: IPv6 addresses are throttled by their /64, so one subscriber cannot rotate through fresh budgets."""
    for i in range(5):
        sign_in(app, "officer", WRONG, addr=f"2001:db8:1:2::{i + 1}")
    assert sign_in(app, "officer", addr="2001:db8:1:2::ff").status_code == 429
    assert sign_in(app, "officer", addr="2001:db8:1:3::1").status_code == 302


def test_a35_throttle_counts_are_exact_under_concurrency(app, city):
    """A35/L12: 40 concurrent wrong passwords on one account and address are all counted (no lost update)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: sign_in(app, "nobody", WRONG, addr="10.7.0.1").status_code, range(40)))
    assert set(statuses) <= {200, 429}
    rows = throttles(app)
    assert rows[("address", "10.7.0.1")][0] == 40
    assert rows[("pair", "nobody|10.7.0.1")][0] == statuses.count(200) == rows[("account", "nobody")][0]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 3
