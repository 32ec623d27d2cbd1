"""The floor for writes: the real app plus one route that does the least a write can do.

``bench.floor:app`` is ``api.main.create_app(settings)`` (the same middleware: request id,
security headers, body limit, metrics, the JSON access log; the same settings, engine and
pool) with one extra route, ``POST /floor``, which takes the same ``CurrentUser`` and
``SessionDep`` dependencies as every person route (a bearer token decoded, the account
read, the connection handed back), inserts ONE check-in row and COMMITs, and answers 201
with a small declared model.

Why this is the floor: any authenticated write in Backstrong pays for at least these
steps (HTTP parsing, the middleware, FastAPI's dependency resolution with its thread-pool
hops, the account read, a transaction with one INSERT and a durable COMMIT, a JSON
response). What a real write adds on top (validating its body, loading the history,
evaluating the rules, storing advice) is the cost being judged, so bench/loop.py reports
each loop step as a ratio of this app's req/s, served the same way in the same run
(issue 16; the goal is at least 0.5x).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, status
from pydantic import BaseModel

from api.config import get_settings
from api.deps import Clock, CurrentUser, SessionDep
from api.main import configure_logging, create_app
from api.models import CheckInRow

FLOOR_PATH = "/floor"
# A check-in of the floor's own account: the row the real POST /v1/checkins also writes.
FLOOR_PAIN = 2
FLOOR_BODY_HASH = "0" * 64

router = APIRouter(tags=["bench"])


class FloorResult(BaseModel):
    id: uuid.UUID


@router.post(FLOOR_PATH, status_code=status.HTTP_201_CREATED)
def floor(user: CurrentUser, session: SessionDep, clock: Clock) -> FloorResult:
    now = clock()
    row = CheckInRow(
        user_id=user.id,
        recorded_at=now,
        received_at=now,
        phase="daily",
        pain=FLOOR_PAIN,
        body_hash=FLOOR_BODY_HASH,
    )
    session.add(row)
    session.commit()
    return FloorResult(id=row.id)


def create_floor_app() -> FastAPI:
    settings = get_settings()
    configure_logging(settings)
    app = create_app(settings)
    app.include_router(router)
    return app


def __getattr__(name: str) -> Any:
    # Built on first access, as api.main builds its app, so importing has no side effects.
    if name == "app":
        application = create_floor_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
