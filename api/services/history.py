"""Loading what the rules read: a bounded window of a person's history, as domain data."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Row, bindparam
from sqlmodel import Session, col, select

from api.domain.outcome_rules import FUNCTION_MEASURES, PAIR_REACH
from api.domain.rules import WINDOW
from api.domain.thresholds import DEFAULT_THRESHOLDS, ThresholdError, Thresholds
from api.domain.trend_rules import FIRST_READINGS
from api.domain.types import (
    CLINICIAN_ASSESSOR,
    CheckIn,
    Dose,
    History,
    LogEntry,
    Outcome,
    SessionLog,
)
from api.models import AdviceRow, CheckInRow, SessionLogRow, UserThresholds
from api.services import history_queries as queries
from api.services.row_cache import rows_for


def checkin_to_domain(row: CheckInRow | Row[Any]) -> CheckIn:
    return CheckIn(
        id=str(row.id),
        recorded_at=row.recorded_at,
        phase=row.phase,  # type: ignore[arg-type]
        pain=row.pain,
        session_id=str(row.session_id) if row.session_id else None,
        exercise_slug=row.exercise_slug,
        red_flags=frozenset(name for name, yes in row.red_flags.items() if yes),
        red_flags_resolved=row.red_flags_resolved,
        received_at=row.received_at,
        denied=frozenset(name for name, yes in row.red_flags.items() if yes is False),
        assessed_by=row.assessed_by,
        assessed_at=row.assessed_at,
        radiating_below_knee=row.radiating_below_knee,
        leg_numbness=row.leg_numbness,
        locations=frozenset(row.locations),
    )


def log_to_domain(
    log: SessionLogRow | Row[Any], planned: Sequence[Mapping[str, Any]]
) -> SessionLog:
    prescribed = {
        i["exercise_slug"]: Dose(
            i["exercise_slug"], i["sets"], i["reps"], i["hold_seconds"], i["per_side"]
        )
        for i in planned
    }
    entries = []
    for e in log.entries:
        dose = prescribed.get(e["exercise_slug"])
        if dose is None:
            continue
        entries.append(
            LogEntry(
                exercise_slug=e["exercise_slug"],
                prescribed=dose,
                sets_completed=e["sets_completed"],
                reps=tuple(e["reps"]),
                hold_seconds=e.get("hold_seconds"),
                rpe=e.get("rpe"),
                pain_during=e.get("pain_during"),
                skipped=e.get("skipped", False),
            )
        )
    return SessionLog(
        session_id=str(log.session_id),
        started_at=log.started_at,
        ended_at=log.ended_at,
        entries=tuple(entries),
        pain_after=log.pain_after,
        imported=log.import_id is not None,
    )


def _latest_assessment(own: CheckIn | None, by_clinician: datetime | None) -> CheckIn | None:
    """A linked clinician's resolution counts as an assessment at the moment they made it."""
    if by_clinician is None:
        return own
    theirs = CheckIn(
        id=f"clinician:{by_clinician.isoformat()}",
        recorded_at=by_clinician,
        phase="daily",
        pain=0,
        red_flags_resolved=True,
        received_at=by_clinician,
        assessed_by=CLINICIAN_ASSESSOR,
        assessed_at=by_clinician,
    )
    if own is None or own.assessed_at is None or theirs.recorded_at > own.assessed_at:
        return theirs
    return own


Flare = tuple[date, float]  # a flare's first day and baseline


@dataclass(frozen=True)
class LatestAdvice:
    """What an evaluation needs of the latest stored advice: whether it changed, and the
    flare it stood on (None when it stood on none, or when not asked for)."""

    fingerprint: str
    status: str
    carried_flare: Flare | None = None


_NO_FLARE = ("no flare",)  # kept for advice that stood on none (the cache keeps no None)


# Built once: every evaluation runs them.
_LATEST_ADVICE = (
    select(AdviceRow.id, AdviceRow.fingerprint, AdviceRow.status)
    .where(AdviceRow.user_id == bindparam("user_id"))
    .order_by(col(AdviceRow.evaluated_at).desc(), col(AdviceRow.id).desc())
    .limit(1)
)
_REASONS = select(AdviceRow.reasons).where(AdviceRow.id == bindparam("id"))
_THRESHOLDS = select(UserThresholds).where(UserThresholds.user_id == bindparam("user_id"))


def latest_advice(
    session: Session, user_id: uuid.UUID, *, flare: bool = True
) -> LatestAdvice | None:
    """The latest stored advice; with `flare`, the flare it stood on, read from its
    reasons (stored advice is never changed: kept per row, decoded once)."""
    row = session.exec(_LATEST_ADVICE, params={"user_id": user_id}).first()
    if row is None:
        return None
    advice_id, digest, status = row
    if not flare:
        return LatestAdvice(digest, status)
    cache = rows_for(session)
    key = ("a", advice_id)
    kept: tuple[Any, ...] | None = cache.known([key]).get(key)
    if kept is None:
        reasons = session.exec(_REASONS, params={"id": advice_id}).first()
        kept = _carried_flare(list(reasons or [])) or _NO_FLARE
        cache.keep({key: kept})
    return LatestAdvice(digest, status, None if kept is _NO_FLARE else cast(Flare, kept))


def _carried_flare(reasons: list[dict[str, Any]]) -> Flare | None:
    """The flare (first day, baseline) stored advice with these reasons stood on, if any."""
    for reason in reasons:
        evidence = reason.get("evidence") or {}
        if reason.get("rule_id") == "F1" and "flare_began" in evidence:
            try:
                return date.fromisoformat(evidence["flare_began"]), float(evidence["baseline_mean"])
            except (KeyError, TypeError, ValueError):
                return None
    return None


def _key(kind: str, row: Row[Any], names: Sequence[str]) -> tuple[Any, ...]:
    """A whole row's key, as the keys query gives it (its key_* columns)."""
    return (kind, *(row._mapping[f"key_{name}"] for name in names))


def _window(
    session: Session, user_id: uuid.UUID, now: datetime, since: datetime, rest_since: datetime
) -> tuple[tuple[CheckIn, ...], tuple[SessionLog, ...]]:
    """The window's check-ins and logs (queries.window), as domain data: read as keys,
    and whole (then converted and kept) only where the row cache lacks them."""
    checkin_keys, log_keys = queries.window_keys(session, user_id, now, since, rest_since)
    cache = rows_for(session)
    wanted = [("c", *k) for k in checkin_keys] + [("l", *k) for k in log_keys]
    found = cache.known(wanted)
    fresh: dict[Hashable, Any] = {}
    missing = [queries.key_id(k[1]) for k in wanted[: len(checkin_keys)] if k not in found]
    if missing:
        for row in queries.checkins_by_id(session, user_id, missing):
            fresh[_key("c", row, queries.CHECKIN_KEY)] = checkin_to_domain(row)
    missing = [queries.key_id(k[1]) for k in wanted[len(checkin_keys) :] if k not in found]
    by_session: dict[Any, SessionLog] = {}
    if missing:
        for row in queries.logs_by_session(session, user_id, now, since, missing):
            converted = log_to_domain(row, row.planned_items)
            fresh[_key("l", row, queries.LOG_KEY)] = converted
            # A correction committed between the two reads is read whole, as it is now.
            by_session[row.key_session_id] = converted
    cache.keep(fresh)
    found.update(fresh)
    checkins = tuple(found[k] for k in wanted[: len(checkin_keys)] if k in found)
    logs: list[SessionLog] = []
    for key in wanted[len(checkin_keys) :]:
        log = found.get(key) or by_session.get(key[1])
        if log is not None:
            logs.append(log)
    return checkins, tuple(logs)


def _outcome(row: Any) -> Outcome:
    given = row.answers.get("activities") if isinstance(row.answers, dict) else None
    activities = tuple(
        (str(a["activity"]), int(a["score"])) for a in given or () if isinstance(a, dict)
    )
    return Outcome(str(row.id), row.instrument, row.recorded_at, row.score, row.band, activities)


def _outcomes(
    session: Session, user_id: uuid.UUID, now: datetime, since: datetime
) -> tuple[Outcome, ...]:
    """The outcomes the rules read. F2 pairs the latest ODI or PSFS with one up to
    PAIR_REACH before it: when the latest few loaded all fall within that reach, there may
    be more, so the pair's range is read in full (someone answering more than weekly)."""
    rows = list(queries.outcomes(session, user_id, now, since))
    for instrument in (m.instrument for m in FUNCTION_MEASURES):
        ranked = sorted((r for r in rows if r.instrument == instrument), key=lambda r: r.rank)
        if len(ranked) < queries.RECENT_OUTCOMES:
            continue  # all of them are here
        latest = ranked[0].recorded_at
        reach = latest - PAIR_REACH
        if ranked[queries.RECENT_OUTCOMES - 1].recorded_at <= reach:
            continue  # the latest few already reach back far enough
        known = {r.id for r in rows}
        more = queries.outcome_pair(session, user_id, instrument, latest, reach)
        rows += [r for r in more if r.id not in known]
    ordered = sorted(rows, key=lambda r: (r.recorded_at, str(r.id)))
    return tuple(_outcome(r) for r in ordered)


def load_history(
    session: Session,
    user_id: uuid.UUID,
    now: datetime,
    doses: tuple[Dose, ...] = (),
    timezone: str = "UTC",
    left_out_since: Mapping[str, datetime] | None = None,
    dose_changed_at: Mapping[str, datetime] | None = None,
    cleared: frozenset[str] | None = None,
    risk_factors: frozenset[str] = frozenset(),
    stored: LatestAdvice | None = None,
) -> History:
    """The bounded window the rules read (WINDOW back from the latest data, so silence
    never slides evidence out of view), plus the latest red flags, assessment and rest
    pain ever and the first rest pain ever (one index seek each, however long the
    history, all in one round trip: api.services.history_queries). `stored` is the latest
    stored advice (latest_advice), for the flare it stood on."""
    # The statements are Core, which a session does not autoflush: what the caller added
    # (the check-in being stored, with its red flags) must be in what the rules read.
    session.flush()
    found = queries.seeks(session, user_id, now)
    moments = queries.anchors(session, user_id, now)
    # Each rest phase gave its own latest and first readings; merged here.
    last_rest = sorted(
        found.get(queries.LAST_REST, []), key=lambda r: (r.recorded_at, str(r.id)), reverse=True
    )[:1]
    first_rest = sorted(
        found.get(queries.FIRST_REST, []), key=lambda r: (r.recorded_at, str(r.id))
    )[:FIRST_READINGS]
    latest_data = [moments[k] for k in ("checkin", "log") if k in moments]
    since = max(latest_data, default=now) - WINDOW
    # Rest pain has its own window back from the latest rest-pain check-in
    # (evidence.context does the same), so silence in rest pain loses no evidence.
    rest_since = min(since, (last_rest[0].recorded_at if last_rest else now) - WINDOW)
    checkins, logs = _window(session, user_id, now, since, rest_since)
    measures = _outcomes(session, user_id, now, since)

    def one(kind: str) -> CheckIn | None:
        rows = found.get(kind)
        return checkin_to_domain(rows[0]) if rows else None

    return History(
        checkins=checkins,
        logs=logs,
        doses=doses,
        last_cauda_equina=one("cauda_equina"),
        last_infection_or_fracture=one("infection_or_fracture"),
        last_cancer_concern=one("cancer_concern"),
        last_night_pain=one("night_pain"),
        last_assessment=_latest_assessment(one(queries.ASSESSMENT), moments.get("resolution")),
        last_night_pain_denial=one(queries.DENIAL),
        last_rest=checkin_to_domain(last_rest[0]) if last_rest else None,
        first_rest=tuple(checkin_to_domain(r) for r in first_rest),
        left_out_since=dict(left_out_since or {}),
        dose_changed_at=dict(dose_changed_at or {}),
        cleared=cleared,
        carried_flare=stored.carried_flare if stored is not None else None,
        timezone=timezone,
        risk_factors=risk_factors,
        outcomes=measures,
        next_data_at=min(
            (moments[k] for k in ("next_checkin", "next_log") if k in moments), default=None
        ),
    )


def thresholds_for(session: Session, user_id: uuid.UUID) -> Thresholds:
    row = session.exec(_THRESHOLDS, params={"user_id": user_id}).first()
    if row is None or not row.values:
        return DEFAULT_THRESHOLDS
    try:
        return DEFAULT_THRESHOLDS.with_overrides(row.values)
    except ThresholdError:
        # Stored values were valid when set; if bounds tightened since, the defaults win.
        return DEFAULT_THRESHOLDS
