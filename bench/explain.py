"""The rule service's query plans on PostgreSQL: ``python -m bench.explain [--verbose]``.

Creates a database on the PostgreSQL at 127.0.0.1:5432 (``--server``; dropped
afterwards), fills it with 21 people (one with 10 years of daily check-ins, twenty with
one year; 300 logged sessions, advice rows, clinician actions and screenings each), runs
ANALYZE, captures every statement one evaluation issues (as ``GET /v1/advice`` runs it)
and prints each with EXPLAIN ANALYZE: a sequential scan of a table that grows with other
people's data is a defect (the evaluation must cost the same however many people there
are). Tables with no rows for anyone (thresholds, plans) are scanned sequentially by
choice; their primary keys serve them once they fill.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, text
from sqlmodel import Session

from api import migrations
from api.config import Settings
from api.db import make_engine
from api.domain.screening import RISK_FACTORS
from api.models import AdviceRow, ClinicianAction, Screening, SessionLogRow, TrainingSession, User
from api.services.care_team import RESOLVE_ACTION
from api.services.catalog_snapshot import load_snapshot
from api.services.evaluation import evaluate_person
from api.services.seed import apply_seed, load_seed
from bench.rules import NOW, make_person
from bench.stack import SHARED_SERVER, fresh_database, sqlalchemy_url


def add_records(session: Session, person: uuid.UUID, days: int = 300) -> None:
    sessions, logs, advice, actions, screens = [], [], [], [], []
    for d in range(days):
        at = NOW - timedelta(days=d, hours=3)
        sid = uuid.uuid4()
        sessions.append(
            {"id": sid, "user_id": person, "status": "completed", "minutes": 20,
             "equipment": [], "focus": [], "exclude": [], "advice_status": "maintain",
             "advice": {}, "dropped": [], "items": [], "notes": [],
             "estimated_minutes": 10.0, "created_at": at, "updated_at": at}
        )  # fmt: skip
        logs.append(
            {"session_id": sid, "user_id": person, "started_at": at,
             "ended_at": at + timedelta(minutes=20), "entries": [], "body_hash": "x" * 64,
             "received_at": at, "updated_at": at}
        )  # fmt: skip
        advice.append(
            {"id": uuid.uuid4(), "user_id": person, "status": "maintain", "reasons": [],
             "exercises": {}, "ruleset_version": "v2", "evaluated_at": at, "stale": False,
             "fingerprint": uuid.uuid4().hex}
        )  # fmt: skip
        actions.append(
            {"id": uuid.uuid4(), "user_id": person, "details": {}, "at": at,
             "action": RESOLVE_ACTION if d % 10 == 0 else "plan_updated"}
        )  # fmt: skip
        if d % 30 == 0:
            screens.append(
                {"id": uuid.uuid4(), "user_id": person, "osteoporosis": False,
                 "pregnant": False, "spinal_surgery_last_12_months": False,
                 "stenosis_or_spondylolisthesis": False,
                 "risk_factors": dict.fromkeys(RISK_FACTORS, False), "created_at": at}
            )  # fmt: skip
    session.execute(insert(TrainingSession), sessions)
    session.execute(insert(SessionLogRow), logs)
    session.execute(insert(AdviceRow), advice)
    session.execute(insert(ClinicianAction), actions)
    session.execute(insert(Screening), screens)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__)
    parser.add_argument("--server", default=SHARED_SERVER)
    parser.add_argument("--verbose", action="store_true", help="print every plan")
    args = parser.parse_args()
    with fresh_database(args.server, prefix="backstrong_explain") as conninfo:
        engine = make_engine(Settings(database_url=sqlalchemy_url(conninfo)))
        migrations.upgrade(engine)
        with Session(engine) as session:
            apply_seed(session, load_seed())
            people = [make_person(session, 365) for _ in range(20)]
            person = make_person(session, 3650)
            for someone in [*people, person]:
                add_records(session, someone)
            session.commit()
            session.execute(text("ANALYZE"))
            session.commit()
            user = session.get(User, person)
            assert user is not None
            catalog = load_snapshot(session, 0).rule_catalog
            evaluate_person(session, user, NOW, catalog, record=True)
            session.commit()
            captured: list[tuple[str, Any]] = []

            def grab(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
                captured.append((statement, params))

            event.listen(engine, "before_cursor_execute", grab)
            evaluate_person(session, user, NOW, catalog, record=False)
            session.rollback()
            event.remove(engine, "before_cursor_execute", grab)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            print(f"{len(captured)} statements in one evaluation (GET /v1/advice)")
            for statement, params in captured:
                cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) " + statement, params)
                plan = [str(row[0]) for row in cursor.fetchall()]
                scans = sorted({line.split(" on ")[1].split()[0] for line in plan
                                if "Seq Scan on" in line})  # fmt: skip
                head = " ".join(statement.split())[:100]
                print(f"\n{head}\n  sequential scans: {', '.join(scans) or 'none'}")
                if args.verbose or scans:
                    print("\n".join("    " + line for line in plan))
        finally:
            raw.close()
        engine.dispose()


if __name__ == "__main__":
    main()
