"""In-process profile of the hottest requests: heartbeat, autosave, GET /api/v1/me, the
officer's pages (home, study list, a study item) and the supervisor's and the leader's dashboards (the city's rows cached, as REPORTS_CACHE_SECONDS does).

Runs the real WSGI application (every hook, the real SQLite file: a copy of the bench's cached
city) through werkzeug's test client and reports thread CPU per request, so a change to the
write path can be judged in seconds, without wrk's noise. With ``--profile`` it prints a
cProfile table of one scenario (cumulative time) to see where the CPU goes.

    .venv/bin/python benchmarks/profile_hot.py [--n 2000] [--profile heartbeat|autosave|me]

Needs benchmarks/cache/city.db (built by `make bench`, or BENCH_QUICK=1 make bench).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CITY_DB = ROOT / "benchmarks" / "cache" / "city.db"


def sign_in(client, username: str):
    """GET /login for the form's CSRF token, then POST it with the demo password."""
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    return client.post("/login", data={"username": username, "password": "tiejun2021", "csrf_token": token})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--profile", choices=["heartbeat", "autosave", "me", "dashboard_branch", "dashboard_city", "home",
                                              "study", "item", "login_form", "me_page", "sign_in"])
    parser.add_argument("--pragma", action="append", default=[], help="extra PRAGMA on every connection, e.g. mmap_size=268435456")
    parser.add_argument("--no-autocheckpoint", action="store_true",
                        help="PRAGMA wal_autocheckpoint=0 (what the commits cost without checkpoints)")
    args = parser.parse_args()
    if not CITY_DB.exists():
        print(f"{CITY_DB} is missing: run `BENCH_QUICK=1 make bench` once", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="profile-hot-"))
    db_path = tmp / "run.db"
    src, dst = sqlite3.connect(CITY_DB), sqlite3.connect(db_path)
    src.backup(dst)
    src.close()
    dst.execute("UPDATE study_policies SET min_gap_seconds = 0")
    dst.commit()
    dst.close()
    os.environ.update(APP_ENV="development", SECRET_KEY=secrets.token_urlsafe(48), DATABASE_URL=f"sqlite:///{db_path}",
                      INSTANCE_PATH=str(tmp), DEMO_PASSWORD="tiejun2021")
    from app import create_app

    app = create_app()

    runner = app.test_cli_runner()
    out = runner.invoke(args=["exam", "create-weekly"])
    if out.exit_code != 0:
        print(out.output, file=sys.stderr)
        return 1
    pragmas = args.pragma + (["wal_autocheckpoint=0"] if args.no_autocheckpoint else [])
    if pragmas:
        from sqlalchemy import event

        engine = app.extensions["db"].engine
        engine.dispose()

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            for pragma in pragmas:
                dbapi_conn.execute(f"PRAGMA {pragma}")
    per_statement = {}
    if os.environ.get("PROFILE_STATEMENTS"):
        from sqlalchemy import event

        engine = app.extensions["db"].engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            conn.info["t0"] = time.thread_time_ns()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            key = " ".join(statement.split())[:70]
            n, total = per_statement.get(key, (0, 0))
            per_statement[key] = (n + 1, total + time.thread_time_ns() - conn.info["t0"])

        @event.listens_for(engine, "commit")
        def _commit(conn):
            conn.info["c0"] = time.thread_time_ns()
    client = app.test_client()
    with sqlite3.connect(db_path) as con:
        con.execute("UPDATE exams SET opens_at = datetime('now', '-1 hour'), closes_at = datetime('now', '+1 day')")
        name = con.execute("SELECT username FROM users WHERE role = 'officer' AND username LIKE 'officer0%' "
                           "AND id NOT IN (SELECT user_id FROM attempts) ORDER BY username LIMIT 1").fetchone()[0]
    res = sign_in(client, name)
    assert res.status_code == 302, res.status_code
    home = client.get("/home").get_data(as_text=True)
    csrf = home.split('name="csrf-token" content="')[1].split('"')[0]
    items = client.get("/api/v1/study/items").get_json()["items"]
    exam = client.get("/api/v1/exams/current").get_json()["exam"]
    attempt = client.post(f"/api/v1/exams/{exam['id']}/attempts", headers={"X-CSRFToken": csrf}).get_json()["attempt"]
    qid = next(q["id"] for q in attempt["questions"] if q["type"] == "single")
    headers = {"X-CSRFToken": csrf, "Content-Type": "application/json"}
    staff = {}
    for who in ("supervisor", "leader"):
        staff[who] = app.test_client()
        res = sign_in(staff[who], who)
        assert res.status_code == 302, (who, res.status_code)
    with sqlite3.connect(db_path) as con:
        # L13's sign-ins (the login form and the real hash), each by another officer.
        sign_in_names = [r[0] for r in con.execute(
            "SELECT username FROM users WHERE role = 'officer' AND username != ? ORDER BY id LIMIT ?",
            (name, args.n + 60))]

    signed = iter(sign_in_names)

    scenarios = {
        "me": lambda i: client.get("/api/v1/me"),
        "login_form": lambda i: app.test_client().get("/login"),
        "me_page": lambda i: client.get("/me"),
        "sign_in": lambda i: sign_in(app.test_client(), next(signed)),
        "home": lambda i: client.get("/home"),
        "study": lambda i: client.get("/study/"),
        "item": lambda i: client.get(f"/study/items/{items[0]['id']}"),
        "dashboard_branch": lambda i: staff["supervisor"].get("/reports/"),
        "dashboard_city": lambda i: staff["leader"].get("/reports/"),
        "heartbeat": lambda i: client.post(f"/api/v1/study/items/{items[0]['id']}/heartbeat", headers=headers,
                                           data='{"scroll_pct": 40, "inputs": 1}'),
        "autosave": lambda i: client.put(f"/api/v1/attempts/{attempt['id']}/answers/{qid}", headers=headers,
                                         data='{"answer": ["A"], "seq": %d}' % (i + 1)),
    }
    for name_, fn in scenarios.items():
        if args.profile and name_ != args.profile:
            continue
        expected = 302 if name_ == "sign_in" else 200
        for i in range(50):  # warm up: compiled statements, caches
            res = fn(i)
            assert res.status_code == expected, (name_, res.status_code, res.get_data()[:200])
        prof = cProfile.Profile() if args.profile else None
        base = 100 if name_ == "autosave" else 0
        t0, c0 = time.perf_counter(), time.thread_time()
        if prof:
            prof.enable()
        for i in range(args.n):
            res = fn(base + i)
            if res.status_code != expected:
                print(name_, res.status_code, res.get_data()[:200])
                return 1
        if prof:
            prof.disable()
        cpu, wall = time.thread_time() - c0, time.perf_counter() - t0
        lane = app.extensions["express_lane"]
        print(f"{name_:10s} {1000 * cpu / args.n:.3f} ms CPU/request, {1000 * wall / args.n:.3f} ms wall "
              f"(express lane so far: {lane.served} served, {lane.declined} declined)")
        for key, (count, total) in sorted(per_statement.items(), key=lambda kv: -kv[1][1])[:12]:
            print(f"    {count:6d} × {total / count / 1000:7.1f} µs  {key}")
        per_statement.clear()
        if prof:
            pstats.Stats(prof).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(45)
    return 0


if __name__ == "__main__":
    sys.exit(main())
