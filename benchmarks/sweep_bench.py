"""Time the overdue sweep over N open attempts (issue 7, QUALITY L7).

Usage: DATABASE_URL=sqlite:///copy.db APP_ENV=development SECRET_KEY=… INSTANCE_PATH=…
       python benchmarks/sweep_bench.py --week 2030-W01 --attempts 10028

Works on a throwaway copy of the bench database: inserts N in-progress attempts for N distinct
officers on the given week's exam, every one past its deadline, each with a copy of a real
attempt's questions (half of them answered) so grading does real work, then calls
app.exams.services.sweep_overdue inside an app context and prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from app.exams import services  # noqa: E402
from app.models import Attempt, AttemptQuestion, Exam, User  # noqa: E402
from app.timeutils import utcnow  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--week", required=True)
    parser.add_argument("--attempts", type=int, default=10028)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        session = db.session
        now = utcnow()
        exam = session.scalar(select(Exam).where(Exam.week == args.week, Exam.scope == "city"))
        if exam is None:
            exam, _ = services.create_weekly_exam(session, args.week, now)
            session.commit()
        template_id = session.scalar(select(func.min(AttemptQuestion.attempt_id)))
        template = list(session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == template_id)
                                         .order_by(AttemptQuestion.position)))
        officers = list(session.scalars(select(User.id).where(User.role == "officer").order_by(User.id)
                                        .limit(args.attempts)))
        if len(officers) < args.attempts:
            raise SystemExit(f"only {len(officers)} officers in the database")
        t0 = time.perf_counter()
        deadline = now - timedelta(hours=1)
        started = deadline - timedelta(minutes=exam.duration_minutes)
        first_id = (session.scalar(select(func.max(Attempt.id))) or 0) + 1
        session.execute(insert(Attempt), [
            {"id": first_id + i, "exam_id": exam.id, "user_id": uid, "attempt_no": 1, "seed": i, "status": "in_progress",
             "started_at": started, "deadline": deadline, "seq": 0} for i, uid in enumerate(officers)])
        rows = []
        for i in range(len(officers)):
            for q in template:
                answered = (i + q.position) % 2 == 0
                rows.append({"attempt_id": first_id + i, "position": q.position,
                             "question_version_id": q.question_version_id, "points": q.points,
                             "option_map": q.option_map, "answer": ["A"] if answered else None,
                             "answer_seq": 1 if answered else 0, "answered_at": started if answered else None})
        session.execute(insert(AttemptQuestion), rows)
        session.commit()
        insert_s = time.perf_counter() - t0
        now = utcnow()
        # Overdue ones only: attempts still running inside their time (the mixed-load phase leaves
        # some) are none of the sweep's business.
        overdue = (Attempt.status == "in_progress", Attempt.deadline <= now)
        open_before = session.scalar(select(func.count()).select_from(Attempt).where(*overdue))

        t0 = time.perf_counter()
        finished = services.sweep_overdue(session, now)
        session.commit()
        sweep_s = time.perf_counter() - t0
        open_after = session.scalar(select(func.count()).select_from(Attempt).where(*overdue))
        graded = session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.exam_id == exam.id, Attempt.finish_reason == "deadline", Attempt.score.is_not(None)))
        print("SWEEP_JSON " + json.dumps({
            "attempts": len(officers), "questions_per_attempt": len(template), "insert_seconds": round(insert_s, 3),
            "open_before": open_before, "finished": finished, "open_after": open_after, "graded": graded,
            "sweep_seconds": round(sweep_s, 3)}))


if __name__ == "__main__":
    main()
