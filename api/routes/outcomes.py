"""Outcome measures: the instruments, and what a person answered (issue 19)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from api.deps import CatalogDep, Clock, CurrentUser, InstrumentsDep, SessionDep
from api.links import answer_create, links
from api.pagination import DEFAULT_LIMIT
from api.problems import problem_responses
from api.routes.params import Cursor, Limit, Since
from api.schemas.enums import InstrumentName
from api.schemas.outcomes import (
    InstrumentList,
    InstrumentPublic,
    OutcomeCreate,
    OutcomePage,
    OutcomePublic,
    OutcomeResult,
)
from api.services import outcomes

router = APIRouter(tags=["outcome measures"])


@router.get(
    "/v1/instruments",
    summary="The outcome measures: questions, answers, scoring, bands and licences",
    description=(
        "Public. Each instrument as `POST /v1/outcomes` scores it. Item text ships only where "
        "its licence allows: the ODI's is copyrighted, so its items carry section names "
        "(`title`) and null `text` unless the deployer provides the licensed text. STarT "
        "Back is free for non-commercial use only: show its attribution."
    ),
)
def list_instruments(instruments: InstrumentsDep) -> InstrumentList:
    return InstrumentList(
        items=[InstrumentPublic.model_validate(i.model_dump()) for i in instruments.values()]
    )


@router.post(
    "/v1/outcomes",
    status_code=status.HTTP_201_CREATED,
    summary="Record an outcome measure; it comes back scored, with the change from the first",
    description=(
        "201 with the outcome as stored and scored. Sending the same `id` and body again (an "
        "offline retry) answers the same way, marked `Idempotent-Replayed: true`; the same "
        "`id` with another body is 409. A high-risk STarT Back alerts linked clinicians. The "
        "answer holds the advice evaluated with it (the rules read outcomes: SB1, F2, "
        "`measures_due`), stored as a check-in's is."
    ),
    responses={
        201: links("/outcome/id", "outcome_id", "getOutcome", replays=True),
        **problem_responses(401, 409, 422),
    },
)
def create_outcome(
    body: OutcomeCreate,
    response: Response,
    user: CurrentUser,
    session: SessionDep,
    clock: Clock,
    instruments: InstrumentsDep,
    catalog: CatalogDep,
) -> OutcomeResult:
    outcome, advice, created = outcomes.record_outcome(
        session, user, body, instruments, catalog.rule_catalog, clock()
    )
    answer_create(response, f"/v1/outcomes/{outcome.id}", created)
    return OutcomeResult(outcome=outcome, advice=advice)


@router.get(
    "/v1/outcomes",
    summary="My outcomes, oldest first by arrival; `since` for delta sync",
    description=(
        "`since` filters on `received_at` (when the server stored it), as check-ins do. An "
        "outcome never changes once stored; its `change_from_first` follows the first of its "
        "instrument, which an earlier answer synced late can become."
    ),
    responses=problem_responses(401, 422),
)
def list_outcomes(
    user: CurrentUser,
    session: SessionDep,
    instruments: InstrumentsDep,
    instrument: Annotated[
        InstrumentName | None, Query(description="Only outcomes of this instrument")
    ] = None,
    since: Since = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> OutcomePage:
    items, next_cursor = outcomes.list_outcomes(
        session,
        user,
        instruments,
        instrument=instrument,
        since=since,
        limit=limit,
        cursor=cursor,
    )
    return OutcomePage(items=items, next_cursor=next_cursor)


@router.get(
    "/v1/outcomes/{outcome_id}",
    summary="One of my outcomes",
    description="Person token. Another person's id is 404, as an unknown one is.",
    responses=problem_responses(401, 404),
)
def get_outcome(
    outcome_id: uuid.UUID, user: CurrentUser, session: SessionDep, instruments: InstrumentsDep
) -> OutcomePublic:
    return outcomes.get_outcome(session, user, outcome_id, instruments)
