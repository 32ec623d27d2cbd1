"""The FHIR R4 export (issue 19): a person's record as a collection Bundle, in keyset pages.

The record is read in a fixed order of parts: the pain Observations, the outcomes (a
QuestionnaireResponse and its score Observation each), the logged sessions (Procedures).
Every page also carries the Patient and the routine (a CarePlan and its ServiceRequests,
as GET /v1/routine shows it) and the Questionnaires its answers refer to: what the
records refer to, small, so each page stands on its own.
Within a part, rows go by (last updated, id), so `_since` (changed at or after) and the
cursor are one range seek each, and a row changed while a client pages comes again later
instead of being skipped. Reading it writes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from api.domain.instruments import Instrument, Item, Licence, Scoring
from api.errors import FieldError
from api.models import CheckInRow, OutcomeRow, SessionLogRow, User
from api.schemas.types import EARLIEST, LATEST
from api.services import fhir_resources as fr
from api.services import routine as stored
from api.services.catalog_snapshot import Snapshot
from api.services.evaluation import evaluate_person
from api.services.routine_views import active_items

DEFAULT_COUNT = 200
MAX_COUNT = 1000
MEDIA_TYPE = "application/fhir+json"

Build = Callable[[Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class Part:
    """One kind of row in the record: its table, its (time, id) order, its resources."""

    name: str
    model: Any
    time: Any
    ident: Any
    id_type: Callable[[str], Any]


PARTS = (
    Part("checkins", CheckInRow, CheckInRow.received_at, CheckInRow.id, uuid.UUID),
    Part("outcomes", OutcomeRow, OutcomeRow.received_at, OutcomeRow.id, uuid.UUID),
    Part("sessions", SessionLogRow, SessionLogRow.updated_at, SessionLogRow.session_id, uuid.UUID),
)
PART_NAMES = [p.name for p in PARTS]


@dataclass(frozen=True)
class Position:
    """Where a page starts: a part, and the last row of it already sent (None: its start)."""

    part: int
    after: tuple[datetime, Any] | None


def encode(position: Position) -> str:
    after = position.after
    raw = [PART_NAMES[position.part], *([after[0].isoformat(), str(after[1])] if after else [])]
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def decode(cursor: str) -> Position:
    invalid = FieldError(
        [("cursor", "not a cursor returned by this API", "invalid_cursor")], where="query"
    )
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (
            isinstance(raw, list)
            and len(raw) in (1, 3)
            and all(isinstance(v, str) for v in raw)
            and raw[0] in PART_NAMES
        )
        if not valid:
            raise invalid
        part = PART_NAMES.index(raw[0])
        if len(raw) == 1:
            return Position(part, None)
        at = datetime.fromisoformat(raw[1])
        # Compared, never converted: a moment near the calendar's ends cannot overflow.
        if at.tzinfo is None or not EARLIEST <= at < LATEST:
            raise invalid
        return Position(part, (at, PARTS[part].id_type(raw[2])))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid from exc


def _rows(
    session: Session,
    part: Part,
    user_id: uuid.UUID,
    since: datetime | None,
    after: tuple[datetime, Any] | None,
    limit: int,
) -> Sequence[Any]:
    stmt = select(part.model).where(part.model.user_id == user_id)
    if since is not None:
        stmt = stmt.where(col(part.time) >= since)
    if after is not None:
        at, ident = after
        stmt = stmt.where(
            or_(col(part.time) > at, and_(col(part.time) == at, col(part.ident) > ident))
        )
    return session.exec(stmt.order_by(col(part.time), col(part.ident)).limit(limit)).all()


@dataclass(frozen=True)
class Page:
    resources: list[dict[str, Any]]
    next_cursor: str | None


def planned(session: Session, user: User, catalog: Snapshot, now: datetime) -> list[fr.Planned]:
    """The routine as GET /v1/routine prescribes it now, and what else it ever held: an
    exercise in the stored routine but not prescribed today is on hold (left out, not
    cleared, not started, archived), one taken out of it revoked."""
    evaluation = evaluate_person(session, user, now, catalog.rule_catalog, record=False)
    in_force = {
        i.exercise_slug: i for i in active_items(evaluation, evaluation.today(user.timezone))
    }
    rows = stored.load_rows(session, user.id)
    found = []
    for slug in sorted(set(in_force) | set(rows)):
        row, item = rows.get(slug), in_force.get(slug)
        dose: Any = item if item is not None else row
        if item is not None:
            status = "on-hold" if item.left_out else "active"
        else:
            status = "on-hold" if row is not None and row.active else "revoked"
        info = catalog.by_slug.get(slug)
        found.append(
            fr.Planned(
                slug=slug,
                name=info.name if info else slug,
                sets=dose.sets,
                reps=dose.reps,
                hold_seconds=dose.hold_seconds,
                per_side=dose.per_side,
                status=status,
                # A starting routine not stored yet follows from the profile (equipment)
                # and the screen: dated by the profile, so it stays put between pulls.
                created_at=row.created_at if row else user.created_at,
                updated_at=row.updated_at if row else user.updated_at,
            )
        )
    return found


def _unknown(row: OutcomeRow) -> Instrument:
    """An instrument no longer served (its file renamed or removed): its answers still
    export, item by item, under its name."""
    return Instrument(
        instrument=row.instrument,
        title=row.instrument,
        recall="",
        better="lower",
        licence=Licence(note="", attribution=""),
        items=tuple(Item(id=key, options=()) for key in sorted(row.answers)),
        scoring=Scoring(method="sum", description="", min=0, max=0),
    )


def export_page(
    session: Session,
    user: User,
    *,
    catalog: Snapshot,
    instruments: Mapping[str, Instrument],
    now: datetime,
    since: datetime | None,
    count: int,
    cursor: str | None,
) -> Page:
    """One page of the person's record: at most `count` resources of check-ins, outcomes
    and sessions (an outcome's two are never split, so one more at most), led by the
    Patient and the routine and followed by the Questionnaires its answers refer to, so
    that every page stands on its own: each reference in it resolves within it."""
    start = decode(cursor) if cursor else Position(0, None)
    uid = user.id
    names = {slug: exercise.name for slug, exercise in catalog.by_slug.items()}
    routine = planned(session, user, catalog, now)
    answered: dict[str, Instrument] = {}

    def outcome(row: OutcomeRow) -> list[dict[str, Any]]:
        instrument = instruments.get(row.instrument)
        if instrument is None:
            # Its Questionnaire lists every item any answer on the page gave.
            instrument = _unknown(row)
            seen = answered.get(row.instrument)
            if seen is not None:
                items = {i.id: i for i in (*seen.items, *instrument.items)}
                merged = tuple(items[k] for k in sorted(items))
                answered[row.instrument] = seen.model_copy(update={"items": merged})
            else:
                answered[row.instrument] = instrument
        else:
            answered[row.instrument] = instrument
        return [
            fr.questionnaire_response(row, uid, instrument),
            fr.score_observation(row, uid, instrument),
        ]

    builders: dict[str, Build] = {
        "checkins": lambda r: [fr.pain_observation(r, uid, names)],
        "outcomes": outcome,
        "sessions": lambda r: [fr.procedure(r, uid, names, plan=bool(routine))],
    }
    records: list[dict[str, Any]] = []
    next_cursor = None
    for index in range(start.part, len(PARTS)):
        part = PARTS[index]
        after = start.after if index == start.part else None
        # One row more than fits tells whether the record goes on past this page.
        rows = _rows(session, part, uid, since, after, max(count - len(records), 0) + 1)
        for row in rows:
            if len(records) >= count:
                next_cursor = encode(Position(index, after))
                break
            records.extend(builders[part.name](row))
            after = (getattr(row, part.time.key), getattr(row, part.ident.key))
        if next_cursor is not None:
            break
    leading = [fr.patient(user)]
    if routine:
        leading.append(fr.care_plan(uid, routine))
        leading.extend(fr.service_request(p, uid) for p in routine)
    forms = [fr.questionnaire(answered[name]) for name in sorted(answered)]
    return Page([*leading, *records, *forms], next_cursor)


def bundle(page: Page, self_url: str, next_url: str | None, now: datetime) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url is not None:
        links.append({"relation": "next", "url": next_url})
    found: dict[str, Any] = {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": fr.instant(now)},
        "type": "collection",
        "timestamp": fr.instant(now),
        "link": links,
    }
    # Never empty (FHIR's JSON has no empty arrays): the Patient leads every page.
    found["entry"] = [
        {"fullUrl": fr.full_url(r["resourceType"], r["id"]), "resource": r} for r in page.resources
    ]
    return found
