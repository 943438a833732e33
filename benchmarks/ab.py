"""A/B of one environment setting on the two hottest writes, in one run on one machine.

Starts the platform twice on two scratch copies of the cached city (benchmarks/cache/city.db,
built by `make bench`), once with each value of the setting, and alternates wrk runs of the
heartbeat and the autosave between the two (A, B, A, B, …), so a slow spell of the machine
falls on both sides (benchmarks/NOTES.md, "Noise"). Prints the median req/s and p99 per side.

    .venv/bin/python benchmarks/ab.py SQLITE_WRITE_FLOCK 0 1 [--rounds 4]
"""
from __future__ import annotations

import argparse
import secrets
import statistics
import string
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import run  # noqa: E402


def side(name: str, value: str, tmp: Path) -> dict:
    """A platform on its own city copy with ``name=value``, 200 officers signed in, an attempt each."""
    db_path = tmp / f"{value}.db"
    run.copy_db(run.CITY_DB, db_path)
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(48))
    env = dict(run.app_env(db_path, tmp / f"instance-{value}", secret), **{name: value})
    prep = run.prepare_scratch(db_path, env)
    port = run.free_port()
    proc = run.start_gunicorn(env, "wsgi:app", port, tmp / f"gunicorn-{value}.log")
    run.wait_up(port, "/login", proc, tmp / f"gunicorn-{value}.log")
    users, _ = run.pick_officers(db_path, prep["exam_id"], run.N_USERS)
    clients, _ = run.login_many(port, users)
    _, cur = clients[0].api("GET", "/api/v1/exams/current")
    _, items = clients[0].api("GET", "/api/v1/study/items")
    item_id = items["items"][0]["id"]
    attempts = {}
    for i, c in enumerate(clients):
        _, body = c.api("POST", f"/api/v1/exams/{cur['exam']['id']}/attempts")
        attempt = body["attempt"]
        attempts[i] = (attempt["id"], next(q["id"] for q in attempt["questions"] if q["type"] == "single"))
    return {"port": port, **run.write_lines(clients, attempts, item_id)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    if not run.CITY_DB.exists():
        print(f"{run.CITY_DB} is missing: run `make bench` once", file=sys.stderr)
        return 2
    run.RUNS = 1
    tmp = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    try:
        sides = {v: side(args.name, v, tmp) for v in (args.a, args.b)}
        figures = {(v, k): [] for v in sides for k in ("heartbeat", "autosave")}
        for r in range(args.rounds):
            for kind in ("heartbeat", "autosave"):
                for v in ((args.a, args.b) if r % 2 == 0 else (args.b, args.a)):
                    res = run.wrk(sides[v]["port"], sides[v][kind], tmp, f"{kind}-{v}")
                    figures[(v, kind)].append((res["rps"], res["p99_ms"], res["non_2xx"]))
        for (v, kind), rows in figures.items():
            print(f"AB {args.name}={v} {kind}: req/s median {statistics.median(r[0] for r in rows):.0f} "
                  f"{[round(r[0]) for r in rows]}, p99 median {statistics.median(r[1] for r in rows):.1f} ms "
                  f"{[r[1] for r in rows]}, non-2xx {sum(r[2] for r in rows)}")
    finally:
        run.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
