"""How long an evaluation's answer holds while no data changes: the passage of time alone.

Pure. The rules read the clock in a few ways only: whether data has happened yet
(`<= now`), how old it is against a named duration (72 h fresh evidence, 2 weeks of
volume...), and the person's local day (flares, screens, plans that start on a date).
Each can change the answer only at an instant that is a data moment plus one of those
durations, a local midnight, or the 08:00 next-check-in morning. `holds_until` is the
earliest such instant after `now`; until then `evaluate(history, t)` is the same advice
re-stamped with `t` (`advice_at`), which tests/domain/test_horizon.py checks over
generated histories. A new duration in the rules belongs in DURATIONS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time, timedelta

from api.domain.evidence import (
    BEFORE_GRACE,
    BEFORE_WINDOW,
    NEXT_MORNING_WINDOW,
    local_day,
    zone,
)
from api.domain.progression_rules import (
    FRESH_EVIDENCE,
    GATE_LOOKBACK,
    STEADY_LOOKBACK,
    VOLUME_WEEKS,
)
from api.domain.red_flag_rules import LEG_SYMPTOMS_LOOKBACK
from api.domain.rules import CHECKIN_EVERY, MORNING, WINDOW
from api.domain.session_rules import AFTER_WINDOW
from api.domain.types import Advice, CheckIn, History

# Every duration a rule measures from a data moment (a check-in, a session, a dose
# change) to `now`, or that could be: those only between two data moments change nothing
# with time, and are here anyway, since an instant too many costs one evaluation.
DURATIONS = (
    timedelta(0),  # data recorded a little ahead of the server's clock starts to count
    AFTER_WINDOW,
    BEFORE_GRACE,
    BEFORE_WINDOW,
    CHECKIN_EVERY,
    FRESH_EVIDENCE,
    GATE_LOOKBACK,
    LEG_SYMPTOMS_LOOKBACK,
    NEXT_MORNING_WINDOW,
    STEADY_LOOKBACK,
    timedelta(weeks=VOLUME_WEEKS),
    WINDOW,
)
LONGEST = max(DURATIONS)


def _checkin_moments(c: CheckIn) -> Iterator[datetime]:
    yield c.recorded_at
    if c.received_at is not None:
        yield c.received_at
    if c.assessed_at is not None:
        yield c.assessed_at


def _moments(history: History) -> Iterator[datetime]:
    singles = (
        history.last_cauda_equina,
        history.last_infection_or_fracture,
        history.last_cancer_concern,
        history.last_night_pain,
        history.last_night_pain_denial,
        history.last_assessment,
        history.last_rest,
    )
    for c in (*history.checkins, *history.first_rest, *singles):
        if c is not None:
            yield from _checkin_moments(c)
    for log in history.logs:
        yield log.started_at
        yield log.ended_at
    yield from history.left_out_since.values()
    yield from history.dose_changed_at.values()
    if history.next_data_at is not None:
        yield history.next_data_at


def _local(day_offset: int, at: time, now: datetime, timezone: str) -> datetime:
    tz = zone(timezone)
    day = local_day(now, tz) + timedelta(days=day_offset)
    return datetime.combine(day, at, tzinfo=tz).astimezone(now.tzinfo)


def holds_until(history: History, now: datetime) -> datetime:
    """The earliest instant at or after `now` at which time alone may change what
    `evaluate(history, now)` answers (beyond `advice_at`). `now` itself means not even
    an instant: one of those instants falls exactly on it."""
    tz = history.timezone
    # Today's and tomorrow's midnight and morning: one of each is the next after `now`.
    candidates = [_local(offset, at, now, tz) for offset in (0, 1) for at in (time(0), MORNING)]
    earliest = now - LONGEST
    for moment in _moments(history):
        if moment < earliest:
            continue  # every duration from it has passed
        candidates.extend(moment + d for d in DURATIONS)
    return min((c for c in candidates if c >= now), default=now)


def advice_at(advice: Advice, at: datetime) -> Advice:
    """`advice`, evaluated earlier, as an evaluation at `at` answers while it holds: the
    same, stamped `at`; a check-in due "now" (nothing known) is due at `at`."""
    due = advice.next_checkin_due_at
    return replace(
        advice,
        evaluated_at=at,
        next_checkin_due_at=at if due == advice.evaluated_at else due,
    )
