"""SQL statements per report page at 100 officers and at 10,028 (issue #7: the count must not grow).

Each page is requested in-process (Flask test client, the real app and a real SQLite file) once
to warm up and once counted with SQLAlchemy's ``before_cursor_execute`` event; transaction
statements (BEGIN, COMMIT) are left out. ``make bench`` runs it against its cached city and a
100-officer city built beside it; by hand::

    .venv/bin/python -m benchmarks.query_count benchmarks/cache/city.db
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "tiejun2021"
PAGES = [
    ("leader", "/reports/"),
    ("supervisor", "/reports/"),
    ("supervisor", "/reports/?only=target_not_met"),
    ("leader", "/reports/leaderboard"),
    ("leader", "/api/v1/reports/units"),
    ("supervisor", "/reports/units.xlsx"),
]
# Officer pages are left out: their count follows the officer's own state (an attempt this
# week or not), which differs between two synthetic cities, not with the number of officers.


def count_statements(db_path: Path) -> dict[str, int]:
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event

    from app import create_app
    from app.db import db

    app = create_app({"APP_ENV": "development", "DATABASE_URL": f"sqlite:///{db_path}", "WTF_CSRF_ENABLED": False,
                      "SECRET_KEY": secrets.token_urlsafe(48), "INSTANCE_PATH": tempfile.mkdtemp(prefix="qc-")})
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def listener(conn, cursor, statement, *rest):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            seen.append(statement)

    counts = {}
    clients = {}
    for user, path in PAGES:
        client = clients.get(user)
        if client is None:
            client = clients[user] = app.test_client()
            resp = client.post("/login", data={"username": user, "password": PASSWORD})
            if resp.status_code != 302:
                raise RuntimeError(f"login {user}: {resp.status_code}")
        if client.get(path).status_code != 200:
            raise RuntimeError(f"GET {path} as {user} failed")
        seen.clear()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            client.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        counts[f"{user} {path}"] = len(seen)
    return counts


def small_city(workdir: Path, officers: int = 100, weeks: int = 12) -> Path:
    db_path = workdir / f"city-{officers}.db"
    env = dict(os.environ, APP_ENV="development", DATABASE_URL=f"sqlite:///{db_path}", DEMO_PASSWORD=PASSWORD,
               SECRET_KEY=secrets.token_urlsafe(48), INSTANCE_PATH=str(workdir / "instance"))
    for args in (["db", "upgrade"], ["seed", "city", "--officers", str(officers), "--weeks", str(weeks)]):
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=600)
    return db_path


def compare(big_db: Path) -> dict:
    """Counts on a 100-officer city and on ``big_db``, run in two child processes (one app each)."""
    with tempfile.TemporaryDirectory(prefix="bench-qc-") as tmp:
        small = small_city(Path(tmp))
        out = {}
        for label, path in (("officers_100", small), ("city", big_db)):
            done = subprocess.run([sys.executable, "-m", "benchmarks.query_count", "--count", str(path)], cwd=ROOT,
                                  capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"query count on {path} failed:\n{done.stderr[-2000:]}")
            out[label] = json.loads(done.stdout.strip().splitlines()[-1])
    pages = list(out["city"])
    return {"pages": [{"page": p, "officers_100": out["officers_100"].get(p), "city": out["city"][p],
                       "same": out["officers_100"].get(p) == out["city"][p]} for p in pages],
            "all_same": all(out["officers_100"].get(p) == out["city"][p] for p in pages)}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--count"]:
        print(json.dumps(count_statements(Path(argv[1]))))
        return 0
    print(json.dumps(compare(Path(argv[0] if argv else ROOT / "benchmarks" / "cache" / "city.db")), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
