"""Routine, sessions, workout logs and progress."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from api.conditional import (
    ETAG_RESPONSES,
    IF_NONE_MATCH_DOC,
    advice_as_tagged,
    conditional,
)
from api.deps import CatalogDep, Clock, CurrentUser, SessionDep
from api.links import answer_create, links
from api.pagination import DEFAULT_LIMIT
from api.preconditions import parse_if_match
from api.problems import problem_responses
from api.routes.params import Cursor, Limit
from api.schemas.logs import LogIn
from api.schemas.progress import ProgressPublic
from api.schemas.training import (
    LogResult,
    RoutinePublic,
    SessionCreate,
    SessionPage,
    SessionPublic,
    SessionStatus,
)
from api.schemas.types import Instant
from api.services import logs, progress, routine_views, sessions

router = APIRouter(tags=["training"], responses=problem_responses(401))


@router.get(
    "/v1/routine",
    summary="My exercises at their current doses, and why",
    description=IF_NONE_MATCH_DOC + " (`advice.evaluated_at`, the read's moment, is left out).",
    response_model=RoutinePublic,
    responses=ETAG_RESPONSES,
)
def get_routine(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> Response:
    routine = routine_views.routine_view(session, user, catalog.rule_catalog, clock())
    return conditional(request, routine, lambda r: {**r, "advice": advice_as_tagged(r["advice"])})


@router.post(
    "/v1/sessions",
    status_code=status.HTTP_201_CREATED,
    summary="Build today's session",
    description=(
        "Warm-up first, then strength work, then stretches, within `minutes` (default: the "
        "profile's), with the equipment at hand (default: the profile's). A repeated `id` "
        "(a retry) answers 201 with the stored session, marked `Idempotent-Replayed: "
        "true`. While the advice is `urgent_care` the answer "
        "is 409 with `type` `/problems/exercise-blocked` and the advice."
    ),
    responses={
        201: links("/id", "session_id", "getSession", "putSessionLog", replays=True),
        **problem_responses(409, 422),
    },
)
def create_session(
    body: SessionCreate,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> SessionPublic:
    built, created = sessions.build_session(session, user, body, catalog, clock())
    answer_create(response, f"/v1/sessions/{built.id}", created)
    return built


@router.get(
    "/v1/sessions",
    summary="My sessions; `since` (on `updated_at`) for delta sync",
    description=(
        "Person token. Ordered by `updated_at`, oldest first; it moves when the session is "
        "logged or corrected, an upload is matched to it, or that upload's device is "
        "revoked. Sessions are never deleted (but with the account), so there is no "
        "`deleted` list."
    ),
    responses=problem_responses(422),
)
def list_sessions(
    user: CurrentUser,
    session: SessionDep,
    since: Annotated[
        Instant | None,
        Query(
            description="Delta sync: only sessions changed (`updated_at`) at or after this "
            "moment (an ISO 8601 date-time with an offset). Pass the `Date` header of your "
            "previous sync's first response, less a minute."
        ),
    ] = None,
    status: Annotated[
        SessionStatus | None,
        Query(description="Only sessions in this state: `planned` or `completed`."),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> SessionPage:
    items, next_cursor = sessions.list_sessions(
        session, user, since=since, status=status, limit=limit, cursor=cursor
    )
    return SessionPage(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/sessions/{session_id}",
    summary="One of my sessions",
    description=IF_NONE_MATCH_DOC,
    response_model=SessionPublic,
    responses={**ETAG_RESPONSES, **problem_responses(404)},
)
def get_session(
    session_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    session: SessionDep,
) -> Response:
    return conditional(request, sessions.get_session(session, user, session_id))


@router.put(
    "/v1/sessions/{session_id}/log",
    summary="Log (or correct) what was done; returns the new advice and next doses",
    description=(
        "Idempotent: the same log sent again changes nothing. To correct a stored log, "
        "send the new one with `If-Match` set to the ETag of the stored version "
        '(`"log-<version>"`): without it 428, with an old one 412, so a delayed retry '
        "of an earlier version can never undo a correction."
    ),
    responses={
        200: {
            "headers": {
                "ETag": {
                    "description": 'The stored log\'s version (`"log-<version>"`): send it as '
                    "If-Match to correct the log",
                    "schema": {"type": "string"},
                }
            }
        },
        **problem_responses(404, 409, 412, 422, 428),
    },
)
def put_session_log(
    session_id: uuid.UUID,
    body: LogIn,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
    if_match: Annotated[
        str | None, Header(description="ETag of the stored log, to correct it")
    ] = None,
) -> LogResult:
    log, advice, next_doses, etag = logs.put_log(
        session,
        user,
        session_id,
        body,
        catalog.rule_catalog,
        clock(),
        if_match=parse_if_match(if_match),
    )
    response.headers["ETag"] = etag
    return LogResult(log=log, advice=advice, next_doses=next_doses)


@router.get(
    "/v1/progress",
    summary="Dose history, adherence and daily pain, for charts",
    description=(
        "Person token; reading it writes nothing. Per exercise its current dose and each "
        "dose change with the rule that made it; adherence (sessions a week over 4 weeks, "
        "streak, minutes in the last 7 days); and daily pain per local day (from `daily` and "
        "`next_morning` check-ins) for the last `days` days. `excluded` and `limited` repeat "
        "what the screening rules out or limits."
    ),
)
def get_progress(
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
    days: Annotated[int, Query(ge=1, le=365, description="Days of pain series")] = 90,
) -> ProgressPublic:
    return progress.progress_view(session, user, catalog.rule_catalog, clock(), days)
