"""Mixed-load scenarios of QUALITY L1, L8, L13 and L14, shortened to fit ``make bench``.

* **L1** (weekly peak): 3,000 examinees each saving an answer every 30 s and 2,000 readers each
  sending a heartbeat every 30 s and opening a page every few minutes, at the rates the row
  gives, for ``BENCH_MIXED_SECONDS`` (default 60 s; the row says 20 minutes). Every acknowledged
  save and heartbeat is logged by the client and checked against the database afterwards;
  5xx must stay under 0.1 % and autosave p95 under 500 ms.
* **L14** (flaky network) inside L1: 5 % of saves are sent twice and 5 % are followed by a
  stale copy (an older ``seq``) arriving late; every attempt's stored answers must equal the
  client's last acknowledged state.
* **L8**: the same load plus 20 supervisor/leader dashboards a second; autosave p95 may rise
  at most 20 %. Inside the L8 phase the dashboards run in alternate ``L8_WINDOW``-second windows
  (off, on, off, …) and the autosaves sent in "on" windows are compared with those sent in "off"
  windows of the same phase: both halves share the machine's and the database's state of that
  minute, which a comparison with the L1 phase a minute earlier does not (between runs of the
  same code the L1 phase's p95 alone moved from 29 to 50 ms on session 4's machine). The
  phase-to-phase figure is reported beside it.
* **L13**: the same load plus 20 real sign-ins a second (the login form, the real hash); login
  p95 < 1 s and autosave p95 < 500 ms.

Why sessions are minted: signing 5,000 officers in through the form costs 5,000 slow hashes
(minutes on two cores) before the load even starts, so the bench writes their server-side
sessions straight into the database and signs matching cookies with the deployment's
SECRET_KEY, exactly what a login would have produced (``AuthSession`` row, Flask-Login keys,
the CSRF secret). Attempts are started in-process through the exam service for the same
reason. L13 uses real logins, because the hash is what it measures.
"""
from __future__ import annotations

import hashlib
import heapq
import http.client
import json
import os
import random
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UA = "smart-study-bench/1.0"
SECONDS = int(os.environ.get("BENCH_MIXED_SECONDS", "60"))
EXAMINEES = int(os.environ.get("BENCH_MIXED_EXAMINEES", "3000"))
READERS = int(os.environ.get("BENCH_MIXED_READERS", "2000"))
SAVE_EVERY = 30.0
BEAT_EVERY = 30.0
PAGE_EVERY = 180.0
REPORTS_PER_S = 20.0
LOGINS_PER_S = 20.0
THREADS = 48
L8_WINDOW = 10.0


@dataclass
class Officer:
    username: str
    user_id: int
    cookie: str
    csrf: str
    attempt_id: int | None = None
    questions: list = field(default_factory=list)  # (question_id, qtype, option keys)
    seq: int = 0
    acked: dict = field(default_factory=dict)  # question_id -> (seq, answer) of the newest acked save
    beats_acked: int = 0


# --- minting sessions and attempts ----------------------------------------------------------

def mint(database_url: str, secret: str, usernames: list[str], exam_id: int | None) -> list[Officer]:
    """Server-side sessions and signed cookies for ``usernames``; with ``exam_id``, their
    attempts too (started through the exam service, as the start button would)."""
    sys.path.insert(0, str(ROOT))
    from flask_login.utils import _create_identifier
    from itsdangerous import URLSafeTimedSerializer
    from sqlalchemy import delete, insert, select

    from app import create_app
    from app.db import db
    from app.exams import services
    from app.models import Attempt, AttemptQuestion, AuthSession, Exam, Question, QuestionVersion, User
    from app.timeutils import utcnow

    import tempfile

    app = create_app({"APP_ENV": "development", "DATABASE_URL": database_url, "SECRET_KEY": secret,
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-mint-")})
    now = utcnow()
    officers = []
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": UA}):
        ident = _create_identifier()
        cookies = app.session_interface.get_signing_serializer(app)
        csrf = URLSafeTimedSerializer(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key, salt="wtf-csrf-token")
        ids = dict(db.session.execute(select(User.username, User.id).where(User.username.in_(usernames))).all())
        rows = []
        for name in usernames:
            sid, raw = secrets.token_urlsafe(32), hashlib.sha1(os.urandom(64)).hexdigest()
            rows.append({"id": sid, "user_id": ids[name], "created_at": now, "last_seen_at": now, "ip": "127.0.0.1",
                         "user_agent": UA})
            data = {"_fresh": False, "_id": ident, "_permanent": True, "_user_id": str(ids[name]), "sid": sid,
                    "csrf_token": raw}
            officers.append(Officer(name, ids[name], f"session={cookies.dumps(data)}", csrf.dumps(raw)))
        db.session.execute(insert(AuthSession), rows)
        db.session.commit()
        if exam_id is not None:
            # The synthetic history has most of the city sitting this week's exam already; on the
            # bench's scratch copy the examinees' attempts are cleared so that each one is mid-exam.
            mine = select(Attempt.id).where(Attempt.exam_id == exam_id, Attempt.user_id.in_(ids.values()))
            db.session.execute(delete(AttemptQuestion).where(AttemptQuestion.attempt_id.in_(mine)))
            db.session.execute(delete(Attempt).where(Attempt.exam_id == exam_id, Attempt.user_id.in_(ids.values())))
            db.session.commit()
            exam = db.session.get(Exam, exam_id)
            users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids.values())))}
            for off in officers:
                attempt, _ = services.start_or_resume(db.session, exam, users[off.user_id], now)
                off.attempt_id = attempt.id
            db.session.commit()
            by_attempt = {o.attempt_id: o for o in officers}
            for aid, qid, qtype, option_map in db.session.execute(
                    select(AttemptQuestion.attempt_id, AttemptQuestion.question_version_id, Question.qtype,
                           AttemptQuestion.option_map)
                    .join(QuestionVersion, QuestionVersion.id == AttemptQuestion.question_version_id)
                    .join(Question, Question.id == QuestionVersion.question_id)
                    .where(AttemptQuestion.attempt_id.in_(list(by_attempt)))):
                by_attempt[aid].questions.append((qid, qtype, sorted(option_map or {})))
    # Connections closed, not left in the pool: on PostgreSQL an idle one to the run's database
    # keeps it from being the template of the sweep's copy later (CREATE DATABASE … TEMPLATE).
    app.extensions["db"].engine.dispose()
    return officers


# --- the load ---------------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.lat: dict[str, list[float]] = {}
        self.status: dict[str, dict[int, int]] = {}
        self.errors: dict[str, int] = {}

    def add(self, kind: str, ms: float, status: int) -> None:
        with self.lock:
            self.lat.setdefault(kind, []).append(ms)
            st = self.status.setdefault(kind, {})
            st[status] = st.get(status, 0) + 1

    def error(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self) -> dict:
        out = {}
        for kind, values in self.lat.items():
            values = sorted(values)
            total = len(values) + self.errors.get(kind, 0)
            fives = sum(n for s, n in self.status[kind].items() if s >= 500)
            def pct(q):  # nearest rank
                return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None

            out[kind] = {"requests": total, "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
                         "status": {str(k): v for k, v in sorted(self.status[kind].items())},
                         "socket_errors": self.errors.get(kind, 0),
                         "5xx_rate": round((fives + self.errors.get(kind, 0)) / total, 5) if total else 0.0}
        return out


def _request(port: int, method: str, path: str, headers: dict, body: bytes | None = None,
             timeout: float = 60) -> tuple[int, bytes, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": UA, **headers})
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


class Load:
    """A clock of due events worked off by a pool of threads (open loop: every event is sent
    at its time whatever the server's speed, so a slow server shows as latency)."""

    def __init__(self, port: int, seconds: float, rng: random.Random):
        self.port, self.seconds, self.rng = port, seconds, rng
        self.queue: list = []
        self.qlock = threading.Condition()
        self.rec = Recorder()
        self.start = 0.0
        self.seq = 0
        #: Optional ``f(seconds since start) -> label``: each request is also recorded as
        #: ``kind@label`` by the window it was sent in (L8's on/off windows).
        self.window = None

    def at(self, when: float, fn, *args) -> None:
        with self.qlock:
            self.seq += 1
            heapq.heappush(self.queue, (when, self.seq, fn, args))
            self.qlock.notify()

    def timed(self, kind: str, method: str, path: str, headers: dict, body: bytes | None = None):
        t0 = time.perf_counter()
        kinds = (kind,) if self.window is None else (kind, f"{kind}@{self.window(time.monotonic() - self.start)}")
        try:
            status, data, hdrs = _request(self.port, method, path, headers, body)
        except OSError:
            for k in kinds:
                self.rec.error(k)
            return None, b"", {}
        for k in kinds:
            self.rec.add(k, (time.perf_counter() - t0) * 1000, status)
        return status, data, hdrs

    def _worker(self) -> None:
        while True:
            with self.qlock:
                while True:
                    if not self.queue:
                        if time.monotonic() - self.start > self.seconds:
                            return
                        self.qlock.wait(0.05)
                        continue
                    when, _, fn, args = self.queue[0]
                    if when > self.seconds:  # past the end of the phase: dropped, not rescheduled
                        heapq.heappop(self.queue)
                        continue
                    now = time.monotonic() - self.start
                    if when <= now:
                        heapq.heappop(self.queue)
                        break
                    self.qlock.wait(min(0.05, when - now))
            fn(*args)

    def run(self) -> dict:
        self.start = time.monotonic()
        threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(self.seconds + 120)
        return self.rec.summary()


def _answer(rng: random.Random, qtype: str, keys: list[str]) -> list:
    if qtype == "fill":
        return [rng.choice(["忠诚", "为民", "担当", "清廉"])]
    if qtype == "multiple":
        return sorted(rng.sample(keys, k=rng.randint(1, len(keys))))
    return [rng.choice(keys)]


def schedule_examinee(load: Load, off: Officer) -> None:
    def save(first: bool = False):
        if load.rng.random() < 0.02 and not first:
            pass  # the client skips a save when nothing changed [QUALITY 21]
        else:
            qid, qtype, keys = load.rng.choice(off.questions)
            off.seq += 1
            seq, answer = off.seq, _answer(load.rng, qtype, keys)
            body = json.dumps({"answer": answer, "seq": seq}).encode()
            headers = {"Cookie": off.cookie, "X-CSRFToken": off.csrf, "Content-Type": "application/json"}
            path = f"/api/v1/attempts/{off.attempt_id}/answers/{qid}"
            roll = load.rng.random()
            copies = 2 if roll < 0.05 else 1  # L14: a duplicated save
            for _ in range(copies):
                status, _, _ = load.timed("autosave", "PUT", path, headers, body)
                if status == 200:
                    prev = off.acked.get(qid)
                    if prev is None or prev[0] < seq:
                        off.acked[qid] = (seq, answer)
            if 0.05 <= roll < 0.10 and seq > 1:  # L14: an older copy arrives late
                stale = json.dumps({"answer": _answer(load.rng, qtype, keys), "seq": seq - 1}).encode()
                load.timed("autosave_stale", "PUT", path, headers, stale)
        load.at(time.monotonic() - load.start + SAVE_EVERY, save)

    load.at(load.rng.uniform(0, SAVE_EVERY), save, True)


def schedule_reader(load: Load, off: Officer, item_id: int) -> None:
    headers = {"Cookie": off.cookie, "X-CSRFToken": off.csrf, "Content-Type": "application/json"}

    def beat():
        status, _, _ = load.timed("heartbeat", "POST", f"/api/v1/study/items/{item_id}/heartbeat", headers,
                                  b'{"scroll_pct": 40, "inputs": 2}')
        if status == 200:
            off.beats_acked += 1
        load.at(time.monotonic() - load.start + BEAT_EVERY, beat)

    def page():
        load.timed("page", "GET", load.rng.choice(["/home", f"/study/items/{item_id}", "/study/"]),
                   {"Cookie": off.cookie})
        load.at(time.monotonic() - load.start + PAGE_EVERY, page)

    load.at(load.rng.uniform(0, BEAT_EVERY), beat)
    load.at(load.rng.uniform(0, PAGE_EVERY), page)


def schedule_paced(load: Load, per_s: float, fn, when=None) -> None:
    """``fn(i)`` ``per_s`` times a second through the phase (only at times ``when(t)`` accepts)."""
    step = 1.0 / per_s
    t = 0.0
    i = 0
    while t < load.seconds:
        if when is None or when(t):
            load.at(t, fn, i)
            i += 1
        t += step


def l8_window(t: float) -> str:
    """"off" in the first L8_WINDOW seconds, then "on", "off", … (dashboards run in "on")."""
    return "on" if int(t // L8_WINDOW) % 2 else "off"


# --- checks -----------------------------------------------------------------------------------

def check(database_url: str, examinees: list[Officer], readers: list[Officer], since) -> dict:
    """Compare the server's rows with what the clients saw acknowledged (L1, L14)."""
    from sqlalchemy import create_engine, text

    from app.db import normalise_url

    engine = create_engine(normalise_url(database_url))
    lost_answers = wrong_answers = 0
    with engine.connect() as conn:
        stored = {}
        ids = [o.attempt_id for o in examinees]
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            rows = conn.execute(text("SELECT attempt_id, question_version_id, answer, answer_seq FROM attempt_questions "
                                     f"WHERE attempt_id IN ({','.join(str(int(a)) for a in chunk)})")).all()
            for aid, qid, answer, seq in rows:
                stored[(aid, qid)] = (json.loads(answer) if isinstance(answer, str) else answer, seq)
        for off in examinees:
            for qid, (seq, answer) in off.acked.items():
                got = stored.get((off.attempt_id, qid))
                if got is None or got[1] is None or got[1] < seq:
                    lost_answers += 1
                elif got[1] == seq and got[0] != answer:  # a newer seq: a later save of this question won
                    wrong_answers += 1
        beats = dict(conn.execute(text("SELECT user_id, count(*) FROM study_beats WHERE received_at >= :t "
                                       "GROUP BY user_id"), {"t": since}).all())
    engine.dispose()
    lost_beats = sum(max(0, off.beats_acked - beats.get(off.user_id, 0)) for off in readers)
    return {"acknowledged_saves_checked": sum(len(o.acked) for o in examinees), "lost_answers": lost_answers,
            "answers_not_last_acknowledged": wrong_answers,
            "acknowledged_beats": sum(o.beats_acked for o in readers), "lost_beats": lost_beats}


def run(port: int, database_url: str, secret: str, exam_id: int, item_id: int, examinee_names: list[str],
        reader_names: list[str], login_names: list[str], staff: list[tuple[str, str]], log=print) -> dict:
    """The three phases (L1+L14, L8, L13), each ``SECONDS`` long, against a running platform.

    ``staff``: (cookie header, path) pairs the L8 phase requests 20 times a second.
    ``login_names``: officers not signed in yet, for L13's real logins (password: the demo one).
    """
    from app.timeutils import utcnow

    t0 = time.perf_counter()
    examinees = mint(database_url, secret, examinee_names, exam_id)
    readers = mint(database_url, secret, reader_names, None)
    minted_s = round(time.perf_counter() - t0, 1)
    log(f"mixed: minted {len(examinees)} examinee and {len(readers)} reader sessions in {minted_s}s")
    since = utcnow()
    results = {"seconds_per_phase": SECONDS, "examinees": len(examinees), "readers": len(readers),
               "mint_seconds": minted_s, "phases": {}}
    logins = iter(login_names)

    def phase(name: str, extra=None) -> dict:
        load = Load(port, SECONDS, random.Random(name))
        for off in examinees:
            schedule_examinee(load, off)
        for off in readers:
            schedule_reader(load, off, item_id)
        if extra:
            extra(load)
        log(f"mixed: phase {name} ({SECONDS}s)")
        out = load.run()
        log(f"mixed: phase {name}: " + ", ".join(f"{k} p95 {v['p95_ms']} ms ({v['requests']})" for k, v in out.items()))
        return out

    def reports(load: Load) -> None:
        load.window = l8_window
        schedule_paced(load, REPORTS_PER_S, lambda i: load.timed("report", "GET", staff[i % len(staff)][1],
                                                                  {"Cookie": staff[i % len(staff)][0]}),
                       when=lambda t: l8_window(t) == "on")

    def sign_ins(load: Load) -> None:
        from benchmarks.run import Client

        def one(_i):
            name = next(logins, None)
            if name is None:
                load.rec.error("login")
                return
            client = Client(port)
            t = time.perf_counter()
            try:
                client.login(name)
                load.rec.add("login", (time.perf_counter() - t) * 1000, 302)
            except (OSError, RuntimeError):
                load.rec.error("login")

        schedule_paced(load, LOGINS_PER_S, one)

    results["phases"]["l1_l14"] = phase("l1_l14")
    results["phases"]["l8_reports"] = phase("l8_reports", reports)
    results["phases"]["l13_logins"] = phase("l13_logins", sign_ins)
    results["integrity"] = check(database_url, examinees, readers, since)
    l8 = results["phases"]["l8_reports"]
    off, on = (l8.get(f"autosave@{w}", {}).get("p95_ms") for w in ("off", "on"))
    results["l8_window_seconds"] = L8_WINDOW
    results["l8_autosave_p95_increase"] = round(on / off - 1, 3) if off and on else None
    # As sessions 2 and 3 measured it: saves with dashboards against the L1 phase before them.
    base = results["phases"]["l1_l14"]["autosave"]["p95_ms"]
    results["l8_vs_l1_phase_increase"] = round(on / base - 1, 3) if base and on else None
    log(f"mixed: integrity {results['integrity']}")
    return results
