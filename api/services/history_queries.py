"""The statements the rule service reads with, built once and run as Core queries.

Every evaluation (each check-in, log, build and advice read) used to issue a dozen small
ORM queries; building each statement, looking up its compiled form and hydrating ORM
objects cost more than the database did. Here the index seeks that do not depend on one
another go in one UNION ALL round trip, each arm still one seek on its own index, and the
window is read in two more; rows come back as plain tuples. Core statements do not
autoflush: history.load_history flushes first, so the check-in being stored is seen.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Row,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlmodel import Session

from api.domain.trend_rules import FIRST_READINGS
from api.domain.types import REST_PHASES
from api.models import CheckInRow, ClinicianAction, OutcomeRow, SessionLogRow, TrainingSession
from api.services.care_team import RESOLVE_ACTION

CHECKINS = CheckInRow.__table__  # type: ignore[attr-defined]
LOGS = SessionLogRow.__table__  # type: ignore[attr-defined]
SESSIONS = TrainingSession.__table__  # type: ignore[attr-defined]
ACTIONS = ClinicianAction.__table__  # type: ignore[attr-defined]

# Kinds of seek, tagged on each row of the union.
LAST_REST = "last_rest"
FIRST_REST = "first_rest"
ASSESSMENT = "assessment"
DENIAL = "denial"
# The latest emergency of each kind ever (History.last_*).
FLAGS = ("cauda_equina", "infection_or_fracture", "cancer_concern", "night_pain")

# What history.checkin_to_domain reads of a check-in, and no more (the rest costs
# decoding on every row of every evaluation).
READ = [
    CHECKINS.c[name]
    for name in (
        "id", "recorded_at", "received_at", "phase", "pain", "session_id", "exercise_slug",
        "red_flags", "red_flags_resolved", "assessed_by", "assessed_at",
        "radiating_below_knee", "leg_numbness", "locations",
    )
]  # fmt: skip

_USER = bindparam("user_id", type_=CHECKINS.c.user_id.type)
_NOW = bindparam("now", type_=CHECKINS.c.recorded_at.type)


def _arm(kind: str, where: ColumnElement[bool], *order: Any, limit: int = 1) -> Select[Any]:
    inner = (
        select(literal(kind).label("kind"), *READ)
        .where(CHECKINS.c.user_id == _USER, where)
        .order_by(*order)
        .limit(limit)
        .subquery()
    )
    # Wrapped, because SQLite allows ORDER BY and LIMIT only on a whole compound select.
    return select(*inner.c)


def _seeks() -> Any:
    at = CHECKINS.c.recorded_at
    arms: list[Select[Any]] = []
    for phase in sorted(REST_PHASES):
        same_phase = and_(CHECKINS.c.phase == phase, at <= _NOW)
        arms.append(_arm(LAST_REST, same_phase, at.desc(), CHECKINS.c.id))
        arms.append(_arm(FIRST_REST, same_phase, at, CHECKINS.c.id, limit=FIRST_READINGS))
    for flag in FLAGS:
        arms.append(_arm(flag, CHECKINS.c[flag].is_(True), at.desc()))
    arms.append(
        _arm(ASSESSMENT, CHECKINS.c.assessed_at.is_not(None), CHECKINS.c.assessed_at.desc())
    )
    arms.append(
        _arm(
            DENIAL,
            and_(
                CHECKINS.c.night_pain_denied.is_(True),
                CHECKINS.c.phase.in_(sorted(REST_PHASES)),
            ),
            at.desc(),
        )
    )
    return union_all(*arms)


def _latest(kind: str, at: Any, where: ColumnElement[bool]) -> Select[Any]:
    # ORDER BY ... LIMIT 1 rather than max(): an index seek on both databases.
    inner = select(literal(kind).label("kind"), at.label("at")).where(where)
    return select(inner.order_by(at.desc()).limit(1).subquery())


def _earliest(kind: str, at: Any, where: ColumnElement[bool]) -> Select[Any]:
    inner = select(literal(kind).label("kind"), at.label("at")).where(where)
    return select(inner.order_by(at).limit(1).subquery())


_ANCHORS = union_all(
    _latest(
        "checkin",
        CHECKINS.c.recorded_at,
        and_(CHECKINS.c.user_id == _USER, CHECKINS.c.recorded_at <= _NOW),
    ),
    _latest("log", LOGS.c.started_at, and_(LOGS.c.user_id == _USER, LOGS.c.started_at <= _NOW)),
    _latest(
        "resolution",
        ACTIONS.c.at,
        and_(ACTIONS.c.user_id == _USER, ACTIONS.c.action == RESOLVE_ACTION),
    ),
    # What is stored for after `now` (a clock ahead of ours): when the answer changes.
    _earliest(
        "next_checkin",
        CHECKINS.c.recorded_at,
        and_(CHECKINS.c.user_id == _USER, CHECKINS.c.recorded_at > _NOW),
    ),
    _earliest(
        "next_log", LOGS.c.started_at, and_(LOGS.c.user_id == _USER, LOGS.c.started_at > _NOW)
    ),
)

_SEEKS = _seeks()

_SINCE = bindparam("since", type_=CHECKINS.c.recorded_at.type)
_REST_SINCE = bindparam("rest_since", type_=CHECKINS.c.recorded_at.type)
_WINDOW = select(*READ).where(
    CHECKINS.c.user_id == _USER,
    CHECKINS.c.recorded_at >= _REST_SINCE,
    CHECKINS.c.recorded_at <= _NOW,
    or_(CHECKINS.c.recorded_at >= _SINCE, CHECKINS.c.phase.in_(sorted(REST_PHASES))),
)
_LOGS = (
    select(
        *(
            LOGS.c[n]
            for n in ("session_id", "started_at", "ended_at", "entries", "pain_after", "import_id")
        ),
        SESSIONS.c["items"].label("planned_items"),
    )
    # The session's owner is repeated so PostgreSQL joins on this person's sessions, not
    # a hash of everyone's (EXPLAIN showed a sequential scan of the sessions table).
    .join(SESSIONS, and_(SESSIONS.c.id == LOGS.c.session_id, SESSIONS.c.user_id == _USER))
    .where(
        LOGS.c.user_id == _USER,
        LOGS.c.started_at >= _SINCE,
        LOGS.c.started_at <= _NOW,
    )
)

# The same windows as keys: what tells one stored content of a row from another
# (api/services/row_cache.py). Whole rows are then read only for keys not kept. Keys are
# read as the driver gives them (no UUID or time zone conversion: on SQLite that cost
# more than the rest of the read), so they are only compared, never interpreted.
CHECKIN_KEY = ("id", "received_at", "body_hash")
LOG_KEY = ("session_id", "version", "updated_at", "body_hash")


def _raw(column: Any) -> Any:
    return type_coerce(column, String).label(f"key_{column.name}")


_CHECKIN_KEYS = [_raw(CHECKINS.c[n]) for n in CHECKIN_KEY]
_LOG_KEY_COLUMNS = [_raw(LOGS.c[n]) for n in LOG_KEY]
_WINDOW_KEYS = _WINDOW.with_only_columns(*_CHECKIN_KEYS)
_LOG_KEYS = (
    select(*_LOG_KEY_COLUMNS)
    .where(
        LOGS.c.user_id == _USER,
        LOGS.c.started_at >= _SINCE,
        LOGS.c.started_at <= _NOW,
    )
)  # fmt: skip
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_CHECKINS_BY_ID = select(*READ, *_CHECKIN_KEYS).where(
    CHECKINS.c.user_id == _USER, CHECKINS.c.id.in_(_IDS)
)
_LOGS_BY_SESSION = _LOGS.with_only_columns(*_LOGS.selected_columns, *_LOG_KEY_COLUMNS).where(
    LOGS.c.session_id.in_(_IDS)
)


def key_id(raw: Any) -> uuid.UUID:
    """The id a raw key holds (SQLite gives the stored hex text, PostgreSQL a UUID)."""
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))


def anchors(session: Session, user_id: uuid.UUID, now: datetime) -> dict[str, datetime]:
    """The latest check-in and log at or before `now`, the latest clinician resolution
    ever, and the earliest check-in and log after `now`, by kind (absent when none)."""
    rows = session.execute(_ANCHORS, {"user_id": user_id, "now": now})
    return {kind: at for kind, at in rows if at is not None}


def seeks(session: Session, user_id: uuid.UUID, now: datetime) -> dict[str, list[Row[Any]]]:
    """The latest and first rest-pain check-ins per rest phase, the latest of each
    emergency, assessment and night-pain denial: check-in rows by kind."""
    found: dict[str, list[Row[Any]]] = {}
    for row in session.execute(_SEEKS, {"user_id": user_id, "now": now}):
        found.setdefault(row.kind, []).append(row)
    return found


def window(
    session: Session, user_id: uuid.UUID, now: datetime, since: datetime, rest_since: datetime
) -> tuple[Sequence[Any], Sequence[Any]]:
    """Check-ins from `since` (rest pain from `rest_since`) and logs from `since`, to `now`,
    each log with its session's planned items: the whole read, which the row-cache read
    (history._window) must always equal (tests/api/test_row_cache.py)."""
    params = {"user_id": user_id, "now": now, "since": since, "rest_since": rest_since}
    return session.execute(_WINDOW, params).all(), session.execute(_LOGS, params).all()


def window_keys(
    session: Session, user_id: uuid.UUID, now: datetime, since: datetime, rest_since: datetime
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The raw keys (CHECKIN_KEY, LOG_KEY) of what `window` reads."""
    params = {"user_id": user_id, "now": now, "since": since, "rest_since": rest_since}
    return (
        [tuple(r) for r in session.execute(_WINDOW_KEYS, params)],
        [tuple(r) for r in session.execute(_LOG_KEYS, params)],
    )


def checkins_by_id(session: Session, user_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> Sequence[Any]:
    """This person's check-ins with these ids (the columns `window` reads, and their
    raw keys as key_id, key_received_at, key_body_hash)."""
    return session.execute(_CHECKINS_BY_ID, {"user_id": user_id, "ids": list(ids)}).all()


def logs_by_session(
    session: Session, user_id: uuid.UUID, now: datetime, since: datetime, ids: Sequence[uuid.UUID]
) -> Sequence[Any]:
    """This person's logs of these sessions in the window, as `window` reads them, with
    their raw keys (key_session_id, key_version, key_updated_at, key_body_hash)."""
    params = {"user_id": user_id, "now": now, "since": since, "ids": list(ids)}
    return session.execute(_LOGS_BY_SESSION, params).all()


# Outcome measures: the latest few of each instrument ever, and every one since the window
# began (a person answers a few a month, so one pass over their index range is small).
# F2 compares the latest ODI or PSFS with the latest one at least its review window before
# (api/domain/outcome_rules.py): answered every 4 weeks as asked, that is the second
# latest. The rank comes back too, so that api/services/history.py can tell when the
# latest few all fall within that reach and the pair needs `outcome_pair` (rare).
RECENT_OUTCOMES = 8
OUTCOMES = OutcomeRow.__table__  # type: ignore[attr-defined]
_OUTCOME_COLUMNS = ("id", "instrument", "recorded_at", "score", "band", "answers")
_RANKED = (
    select(
        *(OUTCOMES.c[name] for name in _OUTCOME_COLUMNS),
        func.row_number()
        .over(
            partition_by=OUTCOMES.c.instrument,
            order_by=(OUTCOMES.c.recorded_at.desc(), OUTCOMES.c.id.desc()),
        )
        .label("rank"),
    )
    .where(
        OUTCOMES.c.user_id == bindparam("user_id", type_=Uuid()),
        OUTCOMES.c.recorded_at <= bindparam("now"),
    )
    .subquery()
)
_OUTCOMES = (
    select(*_RANKED.c)
    .where(or_(_RANKED.c.rank <= RECENT_OUTCOMES, _RANKED.c.recorded_at >= bindparam("since")))
    .order_by(_RANKED.c.recorded_at, _RANKED.c.id)
)
_ONE_INSTRUMENT = (
    OUTCOMES.c.user_id == bindparam("user_id", type_=Uuid()),
    OUTCOMES.c.instrument == bindparam("instrument"),
)
_PAIR_RECENT = select(*(OUTCOMES.c[n] for n in _OUTCOME_COLUMNS)).where(
    *_ONE_INSTRUMENT,
    OUTCOMES.c.recorded_at > bindparam("reach"),
    OUTCOMES.c.recorded_at <= bindparam("latest"),
)
_PAIR_BEFORE = (
    select(*(OUTCOMES.c[n] for n in _OUTCOME_COLUMNS))
    .where(*_ONE_INSTRUMENT, OUTCOMES.c.recorded_at <= bindparam("reach"))
    .order_by(OUTCOMES.c.recorded_at.desc(), OUTCOMES.c.id.desc())
    .limit(1)
)


def outcome_pair(
    session: Session, user_id: uuid.UUID, instrument: str, latest: datetime, reach: datetime
) -> list[Row[Any]]:
    """Every answer of one instrument after `reach` up to `latest`, and the latest one at
    or before `reach`: whatever F2 may pair the latest answer with."""
    params = {"user_id": user_id, "instrument": instrument, "latest": latest, "reach": reach}
    recent = session.execute(_PAIR_RECENT, params).all()
    return [*session.execute(_PAIR_BEFORE, params).all(), *recent]


def outcomes(
    session: Session, user_id: uuid.UUID, now: datetime, since: datetime
) -> Sequence[Row[Any]]:
    """The person's outcomes the rules read: the latest few of each instrument, and all
    recorded from `since` to `now`, oldest first, each with its rank (1: the latest)."""
    params = {"user_id": user_id, "now": now, "since": since}
    return session.execute(_OUTCOMES, params).all()
