"""Pain check-ins and the advice evaluated from them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.conditional import (
    ETAG_RESPONSES,
    IF_NONE_MATCH_DOC,
    advice_as_tagged,
    conditional,
)
from api.deps import CatalogDep, Clock, CurrentUser, SessionDep
from api.links import answer_create, links
from api.pagination import DEFAULT_LIMIT
from api.problems import problem_responses
from api.routes.params import Cursor, Limit, Since
from api.schemas.pain import (
    AdvicePage,
    AdvicePublic,
    CheckInCreate,
    CheckInPage,
    CheckInPublic,
    CheckInResult,
)
from api.schemas.types import Instant
from api.services import pain

router = APIRouter(tags=["pain and advice"], responses=problem_responses(401))


@router.post(
    "/v1/checkins",
    status_code=status.HTTP_201_CREATED,
    summary="Report pain (and red-flag answers); the advice comes back at once",
    description=(
        "201 with the stored check-in and the advice evaluated with it. Sending the same "
        "`id` and body again (an offline retry) answers the same way, 201 with the stored "
        "check-in, marked `Idempotent-Replayed: true`; the same `id` with another body is 409."
    ),
    responses={
        201: links("/checkin/id", "checkin_id", "getCheckin", replays=True),
        **problem_responses(409, 422),
    },
)
def create_checkin(
    body: CheckInCreate,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> CheckInResult:
    checkin, advice, created = pain.record_checkin(
        session, user, body, catalog.rule_catalog, clock()
    )
    answer_create(response, f"/v1/checkins/{checkin.id}", created)
    return CheckInResult(checkin=checkin, advice=advice)


@router.get(
    "/v1/checkins",
    summary="My check-ins, oldest first by arrival; `since` for delta sync",
    description=(
        "`since` filters on `received_at` (when the server stored it), so a device syncing "
        "from its last sync time also gets check-ins another device uploaded late."
    ),
    responses=problem_responses(422),
)
def list_checkins(
    user: CurrentUser,
    session: SessionDep,
    since: Annotated[
        Instant | None,
        Query(
            description="Delta sync: only check-ins stored (`received_at`) at or after this "
            "moment (an ISO 8601 date-time with an offset). Pass the `Date` header of your "
            "previous sync's first response, less a minute."
        ),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> CheckInPage:
    items, next_cursor = pain.list_checkins(session, user, since=since, limit=limit, cursor=cursor)
    return CheckInPage(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/checkins/{checkin_id}",
    summary="One of my check-ins",
    description=(
        "Person token. The check-in as stored, with the offset it was sent with "
        "(`recorded_offset`); a check-in never changes, so a cached copy stays good. Another "
        "person's id is 404, as an unknown one is."
    ),
    responses=problem_responses(404),
)
def get_checkin(checkin_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> CheckInPublic:
    return pain.get_checkin(session, user, checkin_id)


@router.get(
    "/v1/advice",
    summary="My current advice, evaluated now",
    description=IF_NONE_MATCH_DOC + " (`evaluated_at`, the moment of the read, is left out).",
    response_model=AdvicePublic,
    responses=ETAG_RESPONSES,
)
def get_advice(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    catalog: CatalogDep,
) -> Response:
    advice = pain.current_advice(session, user, catalog.rule_catalog, clock())
    return conditional(request, advice, advice_as_tagged)


@router.get(
    "/v1/advice/history",
    summary="Every change of my advice, newest first; `since` for delta sync",
    description="With `since`: the entries stored at or after it, oldest first. An entry "
    "never changes once stored, and none is deleted but with the account.",
    responses=problem_responses(422),
)
def list_advice_history(
    user: CurrentUser,
    session: SessionDep,
    since: Since = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AdvicePage:
    items, next_cursor = pain.advice_history(session, user, since=since, limit=limit, cursor=cursor)
    return AdvicePage(items=items, next_cursor=next_cursor)
