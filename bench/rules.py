"""Rule evaluation cost against history length: 30 days vs 10 years of daily check-ins.

``python -m bench.rules [--database-url URL] [--repeat N]``. Builds two people in a
fresh database (SQLite by default), one with 30 days and one with 10 years of daily
check-ins, then times loading their history and evaluating the rules (what every
check-in and every GET /v1/advice does). The goal: the ratio stays under 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from api import migrations
from api.config import Settings
from api.db import make_engine
from api.models import CheckInRow, User
from api.services.catalog_snapshot import load_snapshot
from api.services.evaluation import evaluate_person

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def make_person(session: Session, days: int) -> uuid.UUID:
    user = User(email=f"p{days}-{uuid.uuid4().hex[:6]}@example.com", password_hash="x")
    session.add(user)
    session.flush()
    rows = []
    for d in range(days):
        for hour, phase in ((8, "daily"), (20, "daily")):
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": user.id,
                    "recorded_at": NOW - timedelta(days=d, hours=24 - hour),
                    "received_at": NOW - timedelta(days=d, hours=24 - hour),
                    "phase": phase,
                    "pain": 2 + (d * 7 + hour) % 3,
                    "locations": [],
                    "red_flags": {},
                    "cauda_equina": False,
                    "red_flags_resolved": d % 400 == 399,
                    # Ruleset v2: resolutions carry an assessment (one index seek reads
                    # the latest however many there are).
                    "assessed_by": "doctor" if d % 400 == 399 else None,
                    "assessed_at": NOW - timedelta(days=d, hours=25) if d % 400 == 399 else None,
                    "body_hash": "x" * 64,
                }
            )
    for start in range(0, len(rows), 5000):
        session.execute(insert(CheckInRow), rows[start : start + 5000])
    session.commit()
    return user.id


def time_evaluation(session: Session, user_id: uuid.UUID, repeat: int) -> float:
    samples = []
    user = session.get(User, user_id)
    assert user is not None
    # What the catalog cache hands every evaluation: read once, not per evaluation.
    catalog = load_snapshot(session, 0).rule_catalog
    for _ in range(repeat):
        started = time.perf_counter()
        evaluate_person(session, user, NOW, catalog, record=True)
        session.rollback()  # measure the read and the rules, not an ever-growing table
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rules")
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'rules.db'}"
        engine = make_engine(Settings(database_url=url))
        migrations.upgrade(engine)
        with Session(engine) as session:
            short = make_person(session, 30)
            long = make_person(session, 3650)
            time_evaluation(session, short, 20)  # warm caches and statement compilation
            a = time_evaluation(session, short, args.repeat)
            b = time_evaluation(session, long, args.repeat)
        engine.dispose()
    print(
        f"rule evaluation (load history + evaluate), {engine.dialect.name}, "
        f"median of {args.repeat}:"
    )
    print(f"  30 days of daily check-ins:   {a:7.3f} ms")
    print(f"  10 years of daily check-ins:  {b:7.3f} ms")
    print(f"  ratio: {b / a:.2f} (goal: under 1.5)")


if __name__ == "__main__":
    main()
