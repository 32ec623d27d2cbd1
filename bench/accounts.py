"""Bench accounts, made straight in the database (``python -m bench.accounts``).

One account per entry of bench.__main__.ACCOUNTS, with that many stored sessions,
so list latency can be compared between a light and a very heavy user.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlmodel import Session

from api.config import Settings
from api.db import make_engine
from api.models import TrainingSession, User
from api.security import Passwords
from bench.__main__ import ACCOUNT_PASSWORD, ACCOUNTS
from bench.people import all_clear_screening

BATCH = 5_000


def main() -> None:
    settings = Settings()
    engine = make_engine(settings)
    password_hash = Passwords.from_settings(settings).hash(ACCOUNT_PASSWORD)
    now = datetime.now(UTC)
    with Session(engine) as session:
        for name, count in ACCOUNTS.items():
            user = User(email=f"{name}@bench.example", password_hash=password_hash)
            session.add(user)
            session.flush()
            session.add(all_clear_screening(user.id))
            rows = []
            for n in range(count):
                at = now - timedelta(minutes=count - n)
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "user_id": user.id,
                        "status": "planned",
                        "minutes": 20,
                        "equipment": [],
                        "focus": [],
                        "exclude": [],
                        "advice_status": "maintain",
                        "advice": {
                            "status": "maintain",
                            "reasons": [],
                            "exercises": {},
                            "ruleset_version": "v1",
                            "evaluated_at": at.isoformat(),
                        },
                        "dropped": [],
                        "items": [],
                        "notes": [],
                        "estimated_minutes": 10.0,
                        "created_at": at,
                        "updated_at": at,
                    }
                )
                if len(rows) == BATCH:
                    session.execute(insert(TrainingSession), rows)
                    rows = []
            if rows:
                session.execute(insert(TrainingSession), rows)
        session.commit()
    engine.dispose()


if __name__ == "__main__":
    main()
