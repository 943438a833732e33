"""What operators see of the fast path (issue 15, ARCHITECTURE rule 13): /healthz shows the
worker's express-lane counts, /metrics the counts of all workers in Prometheus' text format,
beside request counts and latencies per endpoint; /metrics only to loopback and METRICS_NETWORKS."""
from __future__ import annotations

import glob
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from app import create_app
from app.db import db
from tests.test_durability import _port
from tests.test_express_lane import beat, csrf_app, lane, signed_in  # noqa: F401 (csrf_app is a fixture)
from tests.test_study_credit import make_item

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.prefix) / "bin"


def samples(text: str) -> dict:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def express_total(found: dict, outcome: str, reason: str = "") -> float:
    return found.get(("platform_express_requests_total", (("outcome", outcome), ("reason", reason))), 0.0)


def test_healthz_counts_a_heartbeat_the_lane_served(csrf_app, city, clock):
    """/healthz: a heartbeat the express lane answers adds one to express.served of the worker."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    before = client.get("/healthz").get_json()
    assert before["status"] == "ok" and before["express"]["enabled"] is True
    assert beat(client, token, item).status_code == 200
    after = client.get("/healthz").get_json()["express"]
    assert after["served"] == before["express"]["served"] + 1
    assert after["declined"] == before["express"]["declined"] and after["errors"] == 0


def test_healthz_counts_a_heartbeat_without_csrf_token_as_declined_csrf(csrf_app, city, clock):
    """/healthz: a heartbeat without its CSRF token is handed to the full stack (400) and counted under declined.csrf."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, _ = signed_in(app, "officer")
    resp = client.post(f"/api/v1/study/items/{item}/heartbeat", json={"inputs": 1})
    assert resp.status_code == 400
    express = client.get("/healthz").get_json()["express"]
    assert express["declined"] == {"csrf": 1} and express["served"] == 0


def test_healthz_is_public_and_touches_neither_database_nor_session(app):
    """/healthz answers anyone with JSON, runs no SQL statement and sets no cookie (load balancers poll it)."""
    statements = []
    with app.app_context():
        engine = db.engine

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = app.test_client().get("/healthz", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert resp.status_code == 200 and resp.get_json()["express"]["served"] == 0
    assert statements == [] and "Set-Cookie" not in resp.headers


def test_metrics_counts_requests_by_endpoint_and_the_lanes_outcomes(csrf_app, city, clock):
    """/metrics: a heartbeat served by the lane counts under its endpoint, with a latency, and as served; a CSRF-less one as declined csrf."""
    app = csrf_app
    item = make_item(app, minutes=30)
    client, token = signed_in(app, "officer")
    before = samples(client.get("/metrics").get_data(as_text=True))
    assert beat(client, token, item).status_code == 200
    assert client.post(f"/api/v1/study/items/{item}/heartbeat", json={"inputs": 1}).status_code == 400
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    after = samples(resp.get_data(as_text=True))

    def delta(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("platform_http_requests_total", endpoint="api.study_heartbeat", method="POST", status="200") == 1
    assert delta("platform_http_requests_total", endpoint="api.study_heartbeat", method="POST", status="400") == 1
    assert delta("platform_http_request_duration_seconds_count", endpoint="api.study_heartbeat") == 2
    assert delta("platform_express_requests_total", outcome="served", reason="") == 1
    assert delta("platform_express_requests_total", outcome="declined", reason="csrf") == 1


@pytest.mark.parametrize("address, networks, status", [
    ("127.0.0.1", [], 200),
    ("::1", [], 200),
    ("10.20.30.40", [], 404),
    ("10.20.30.40", ["10.20.0.0/16"], 200),
    ("10.21.0.1", ["10.20.0.0/16", "192.0.2.0/24"], 404),
])
def test_metrics_answers_loopback_and_metrics_networks_only(make_app, address, networks, status):
    """/metrics: 404 to any client outside loopback and METRICS_NETWORKS (the client address as the app sees it)."""
    app = make_app(METRICS_NETWORKS=networks)
    resp = app.test_client().get("/metrics", environ_base={"REMOTE_ADDR": address})
    assert resp.status_code == status
    if status == 404:
        assert b"platform_" not in resp.get_data()


def test_metrics_judges_the_client_behind_the_proxy(make_app):
    """/metrics with PROXY_HOPS=1: the proxy on loopback does not open it to the client it forwards."""
    app = make_app(PROXY_HOPS=1, METRICS_NETWORKS=["192.0.2.0/24"])
    client = app.test_client()
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                         headers={"X-Forwarded-For": "203.0.113.9"})
    inside = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"X-Forwarded-For": "192.0.2.8"})
    assert (outside.status_code, inside.status_code) == (404, 200)


def test_metrics_networks_typo_refuses_to_start(database_url, tmp_path):
    """METRICS_NETWORKS: an entry that is not a network stops the app at start, naming it."""
    with pytest.raises(RuntimeError, match="METRICS_NETWORKS: '10.0.0.0/33'"):
        create_app({"APP_ENV": "testing", "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path),
                    "METRICS_NETWORKS": ["10.0.0.0/33"]})


# --- two gunicorn workers --------------------------------------------------------------------

def _two_workers(port: int, path: str) -> list[bytes]:
    """GET ``path`` answered by both sync workers: the first request's headers are held back,
    so its worker waits for them while the other worker answers the second."""
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        held.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        time.sleep(0.3)  # one worker has accepted it and waits for the end of the headers
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            other = resp.read()
        held.sendall(b"Connection: close\r\n\r\n")
        raw = b""
        while chunk := held.recv(65536):
            raw += chunk
    finally:
        held.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return [body, other]


@pytest.mark.slow
def test_metrics_sums_the_lanes_counts_over_two_gunicorn_workers(tmp_path):
    """/metrics: under gunicorn with 2 workers, either worker shows the served and csrf-declined heartbeats of both, also after a worker is replaced."""
    database = tmp_path / "metrics.db"
    env = dict(os.environ, APP_ENV="development", SECRET_KEY=secrets.token_urlsafe(40),
               DATABASE_URL=f"sqlite:///{database}", INSTANCE_PATH=str(tmp_path / "instance"), DEMO_PASSWORD="tiejun2021")
    for name in ("FLASK_DEBUG", "PROMETHEUS_MULTIPROC_DIR", "EXPRESS_LANE"):
        env.pop(name, None)
    for args in (["db", "upgrade"], ["seed", "demo"]):
        done = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(database) as con:  # every beat may be credited: none is declined as too soon
        con.execute("UPDATE study_policies SET min_gap_seconds = 0")
    port = _port()
    env.update(HOST="127.0.0.1", PORT=str(port))
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen([str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--workers", "2", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    metrics_dirs = os.path.join(tempfile.gettempdir(), f"platform-metrics-{server.pid}-*")
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                assert time.time() < deadline and server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        assert len(glob.glob(metrics_dirs)) == 1  # the master's own directory, made before the workers forked

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = opener.open(base + "/login", timeout=30).read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": "officer", "password": "tiejun2021", "csrf_token": token}).encode()
        opener.open(urllib.request.Request(base + "/login", data=form, method="POST"), timeout=30).read()
        page = opener.open(base + "/home", timeout=30).read().decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        item = json.loads(opener.open(base + "/api/v1/study/items", timeout=30).read())["items"][0]["id"]

        def send_beat(headers):
            request = urllib.request.Request(f"{base}/api/v1/study/items/{item}/heartbeat", method="POST",
                                             data=b'{"inputs": 1, "scroll_pct": 10}',
                                             headers={"Content-Type": "application/json", **headers})
            try:
                with opener.open(request, timeout=30) as resp:
                    return resp.status
            except urllib.error.HTTPError as err:
                return err.code

        statuses = [send_beat({"X-CSRFToken": token}) for _ in range(4)] + [send_beat({})]
        assert statuses == [200, 200, 200, 200, 400]

        healths = [json.loads(body)["express"] for body in _two_workers(port, "/healthz")]
        served = sum(h["served"] for h in healths)
        csrf = sum(h["declined"].get("csrf", 0) for h in healths)
        assert (served, csrf) == (4, 1)  # every beat the lane saw, split over the two workers somehow
        for body in _two_workers(port, "/metrics"):
            found = samples(body.decode())
            assert express_total(found, "served") == served and express_total(found, "declined", "csrf") == csrf
            assert found[("platform_http_requests_total", (("endpoint", "api.study_heartbeat"), ("method", "POST"),
                                                           ("status", "200")))] == 4

        # A worker replaced (as max_requests does): its counts stay, its files go.
        directory = glob.glob(metrics_dirs)[0]
        worker = int(next(name for name in os.listdir(directory) if re.fullmatch(r"counter_\d+\.db", name))[8:-3])
        os.kill(worker, signal.SIGTERM)
        deadline = time.time() + 30
        while os.path.exists(os.path.join(directory, f"counter_{worker}.db")):
            assert time.time() < deadline, os.listdir(directory)
            time.sleep(0.1)
        assert os.path.exists(os.path.join(directory, "counter_archive.db"))
        for body in _two_workers(port, "/metrics"):
            found = samples(body.decode())
            assert express_total(found, "served") == served and express_total(found, "declined", "csrf") == csrf
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    assert glob.glob(metrics_dirs) == []  # removed when the master exits


def _worker_counts(path: Path, served: int) -> int:
    """A process counting like a gunicorn worker into ``path``: ``served`` lane answers and one
    timed request; returns its pid."""
    code = ("import os, sys; from app import metrics\n"
            "for _ in range(int(sys.argv[1])): metrics.count_express('served')\n"
            "metrics.count_express('declined', 'csrf'); metrics._record('api.me', 'GET', '200', 0.003)\n"
            "print(os.getpid())")
    done = subprocess.run([sys.executable, "-c", code, str(served)], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(path)), timeout=60, check=True)
    return int(done.stdout.strip())


def test_metrics_keep_a_replaced_workers_counts_in_the_archive(tmp_path, monkeypatch):
    """/metrics: when gunicorn replaces a worker its counts move into one archive file per kind: every total unchanged, its files gone."""
    from app.metrics import exposition, retire_worker

    path = tmp_path / "metrics"
    path.mkdir()
    pids = [_worker_counts(path, 3), _worker_counts(path, 4)]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(path))
    before = samples(exposition()[0].decode())
    assert express_total(before, "served") == 7 and express_total(before, "declined", "csrf") == 2
    assert before[("platform_http_request_duration_seconds_count", (("endpoint", "api.me"),))] == 2
    for pid in pids:
        retire_worker(pid)
        assert samples(exposition()[0].decode()) == before
    assert sorted(os.listdir(path)) == ["counter_archive.db", "files.lock", "histogram_archive.db"]
    _worker_counts(path, 1)  # a new worker counts on top
    assert express_total(samples(exposition()[0].decode()), "served") == 8
