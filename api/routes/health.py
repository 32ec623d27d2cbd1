"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import NotReady
from api.migrations import head_revisions, stored_revisions
from api.problems import problem_responses
from api.schemas.common import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="The process is up",
    description=(
        "Public; a liveness probe. Answers 200 while the process serves requests, without "
        "touching the database (GET /readyz checks that)."
    ),
)
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="The database is reachable and migrated to head",
    description=(
        "Public; a readiness probe. 200 when the database answers and its schema is at the "
        "latest migration; otherwise 503 `not-ready`, whose `detail` says which (an "
        "unmigrated database needs `backstrong migrate`)."
    ),
    responses=problem_responses(503),
)
def readyz(request: Request) -> Readiness:
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            at_head = stored_revisions(conn) == head_revisions()
    except SQLAlchemyError as exc:
        raise NotReady(f"database unreachable: {type(exc).__name__}") from exc
    if not at_head:
        raise NotReady("database schema is not at the latest migration: run `backstrong migrate`")
    return Readiness(status="ready", database="ok", migrations="at head")
