"""Outcome measures: score what a person answered, store it once, show change from the first."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from api.db import offset_minutes, offset_text
from api.domain.catalog import CatalogInfo
from api.domain.instruments import AnswerError, Instrument, change, score
from api.errors import ClientIdReused, FieldError, NotFound
from api.models import Alert, OutcomeRow, User
from api.pagination import keyset_page
from api.schemas.outcomes import ChangePublic, OutcomeCreate, OutcomePublic
from api.schemas.pain import AdvicePublic
from api.services.advice import advice_public
from api.services.care_team import linked_clinicians
from api.services.clock import future_error
from api.services.evaluation import evaluate_person
from api.services.store import body_digest, insert_ignoring_duplicates, insert_or_existing

# docs/clinical.md: a high-risk STarT Back result suggests clinician-supported care
# (NICE NG59); each linked clinician is told of each one.
ALERTING_BANDS: dict[str, frozenset[str]] = {"startback": frozenset({"high"})}

First = tuple[uuid.UUID, float]  # the id and score of a person's first answer

# The person's first answer of an instrument, which change is measured from: one seek.
_FIRST = (
    select(OutcomeRow.id, OutcomeRow.score)
    .where(
        OutcomeRow.user_id == bindparam("user_id"),
        OutcomeRow.instrument == bindparam("instrument"),
    )
    .order_by(col(OutcomeRow.recorded_at), col(OutcomeRow.id))
    .limit(1)
)


def firsts(session: Session, user_id: uuid.UUID, names: Iterable[str]) -> dict[str, First]:
    """The person's first answer of each instrument named."""
    found: dict[str, First] = {}
    for name in sorted(set(names)):
        row = session.exec(_FIRST, params={"user_id": user_id, "instrument": name}).first()
        if row is not None:
            found[name] = (row[0], row[1])
    return found


def outcome_public(
    row: OutcomeRow, instruments: Mapping[str, Instrument], first: First | None
) -> OutcomePublic:
    instrument = instruments.get(row.instrument)
    found = None
    # The first answer itself shows no change.
    if instrument is not None and first is not None and first[0] != row.id:
        found = change(instrument, first[1], row.score)
    return OutcomePublic(
        id=row.id,
        instrument=row.instrument,
        recorded_at=row.recorded_at,
        recorded_offset=offset_text(row.recorded_offset_minutes),
        received_at=row.received_at,
        answers=row.answers,
        score=row.score,
        subscores=row.subscores,
        band=row.band,
        change_from_first=None
        if found is None
        else ChangePublic(
            points=found.points,
            percent=found.percent,
            meaningful=found.meaningful,
            direction=found.direction,
        ),
    )


def public_many(
    session: Session,
    user_id: uuid.UUID,
    rows: list[OutcomeRow],
    instruments: Mapping[str, Instrument],
) -> list[OutcomePublic]:
    first = firsts(session, user_id, (r.instrument for r in rows))
    return [outcome_public(r, instruments, first.get(r.instrument)) for r in rows]


def record_outcome(
    session: Session,
    user: User,
    body: OutcomeCreate,
    instruments: Mapping[str, Instrument],
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> tuple[OutcomePublic, AdvicePublic, bool]:
    """Score and store an outcome, and evaluate with it (the rules read outcomes: SB1,
    F2), so the advice and any clinician alert are stored now, not at the next check-in.
    Returns (outcome, advice, newly created)."""
    digest = body_digest(body, exclude={"id"})
    if body.id is not None:
        existing = session.get(OutcomeRow, body.id)
        if existing is not None:
            return _replay(session, user, existing, digest, instruments, catalog, now)
    instrument = instruments[body.instrument]
    errors = future_error("recorded_at", body.recorded_at, now)
    try:
        scored = score(instrument, body.answers)
    except AnswerError as exc:
        errors += exc.errors
    if errors:
        raise FieldError(errors)
    row = OutcomeRow(
        id=body.id or uuid.uuid4(),
        user_id=user.id,
        instrument=instrument.instrument,
        # As check-ins: a clock a little ahead is taken as now.
        recorded_at=min(body.recorded_at, now),
        recorded_offset_minutes=offset_minutes(body.recorded_at),
        received_at=now,
        answers=scored.answers,
        score=scored.score,
        subscores=scored.subscores,
        band=scored.band,
        body_hash=digest,
    )
    stored = insert_or_existing(session, row, lambda: session.get(OutcomeRow, row.id))
    if stored is not None:
        return _replay(session, user, stored, digest, instruments, catalog, now)
    if row.band in ALERTING_BANDS.get(row.instrument, ()):
        _alert(session, user.id, row)
    advice = evaluate_person(session, user, now, catalog, record=True).advice
    session.commit()
    return public_many(session, user.id, [row], instruments)[0], advice_public(advice), True


def _alert(session: Session, patient_id: uuid.UUID, row: OutcomeRow) -> None:
    rows = [
        {
            "id": uuid.uuid4(),
            "clinician_id": clinician_id,
            "user_id": patient_id,
            "kind": "outcome",
            "source": f"outcome:{row.id}",
            "details": {
                "outcome_id": str(row.id),
                "instrument": row.instrument,
                "score": row.score,
                "subscores": row.subscores,
                "band": row.band,
            },
            "created_at": row.received_at,
        }
        for clinician_id in linked_clinicians(session, patient_id)
    ]
    insert_ignoring_duplicates(session, Alert, rows)


def _replay(
    session: Session,
    user: User,
    existing: OutcomeRow,
    digest: str,
    instruments: Mapping[str, Instrument],
    catalog: Mapping[str, CatalogInfo],
    now: datetime,
) -> tuple[OutcomePublic, AdvicePublic, bool]:
    if existing.user_id != user.id or existing.body_hash != digest:
        raise ClientIdReused(
            "This outcome id is already used by a different outcome; "
            "generate a new id for new data."
        )
    # As a check-in's replay: the advice as it stands now.
    advice = evaluate_person(session, user, now, catalog, record=True).advice
    session.commit()
    return public_many(session, user.id, [existing], instruments)[0], advice_public(advice), False


def list_outcomes(
    session: Session,
    user: User,
    instruments: Mapping[str, Instrument],
    *,
    instrument: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[OutcomePublic], str | None]:
    """Oldest first by arrival (`since` filters on it, as check-ins do)."""
    stmt = select(OutcomeRow).where(OutcomeRow.user_id == user.id)
    if instrument is not None:
        stmt = stmt.where(OutcomeRow.instrument == instrument)
    if since is not None:
        stmt = stmt.where(col(OutcomeRow.received_at) >= since)
    rows, next_cursor = keyset_page(
        session,
        stmt,
        time_col=OutcomeRow.received_at,
        id_col=OutcomeRow.id,
        limit=limit,
        cursor=cursor,
    )
    return public_many(session, user.id, list(rows), instruments), next_cursor


def get_outcome(
    session: Session, user: User, outcome_id: uuid.UUID, instruments: Mapping[str, Instrument]
) -> OutcomePublic:
    row = session.get(OutcomeRow, outcome_id)
    if row is None or row.user_id != user.id:
        raise NotFound("No such outcome.")
    return public_many(session, user.id, [row], instruments)[0]
