"""What the rules read, put in order: one evaluation's context and the lookups they share.

Pure. A "day" is the person's local calendar day (their `timezone`), the same day the
progress chart groups by, so a rule and the chart never disagree about a check-in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from statistics import fmean, median
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.domain.ladder import CatalogDose
from api.domain.thresholds import Thresholds
from api.domain.types import REST_PHASES, CheckIn, Dose, History, SessionLog, memo

T = TypeVar("T")

# P2/P3: a next-morning check-in counts for a session ending at most this long before.
NEXT_MORNING_WINDOW = timedelta(hours=36)
# P2/P3 (v2): without a `before` check-in, the median rest pain of this long before counts.
BEFORE_WINDOW = timedelta(days=7)
# A `before` check-in made just as the session started still counts as before it.
BEFORE_GRACE = timedelta(minutes=15)


def zone(name: str) -> tzinfo:
    """The person's time zone; an unknown name (never stored, but be safe) counts as UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_day(moment: datetime, tz: tzinfo) -> date:
    """The person's calendar day for a moment: the one "day" of rules and charts."""
    return moment.astimezone(tz).date()


def daily_rest_means(checkins: Iterable[CheckIn], tz: tzinfo) -> dict[date, float]:
    """Rest-phase pain per local day (a day with many check-ins counts once)."""
    per_day: dict[date, list[int]] = defaultdict(list)
    for c in checkins:
        if c.phase in REST_PHASES:
            per_day[local_day(c.recorded_at, tz)].append(c.pain)
    return {day: fmean(values) for day, values in per_day.items()}


def display_name(slug: str, catalog: Mapping[str, CatalogDose]) -> str:
    """What people call an exercise: its catalog name; never its slug."""
    entry = catalog.get(slug)
    if entry is not None and entry.name:
        return entry.name
    return slug.replace("-", " ").replace("_", " ").capitalize()


def names(slugs: Iterable[str], catalog: Mapping[str, CatalogDose]) -> str:
    """ "Glute Bridge, Knee Hug and Superman"."""
    shown = [display_name(s, catalog) for s in sorted(slugs)]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def iso(value: datetime) -> str:
    """A moment as the API writes every one: UTC, `Z`, always six fractional digits
    (`2026-11-24T07:30:00.000000Z`), so one parser reads them all."""
    if value.tzinfo is None:  # the databases' naive values are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rounded(value: float) -> float:
    return round(value, 2)


def meaningful_rise(rise: float, baseline: float, t: Thresholds) -> bool:
    """Minimal important change (Ostelo 2008) applied to worsening: up by 2 points, or by
    30% and at least 1 point. 30% of a baseline of 0 is no amount: there, 2 points."""
    if rise >= t.flare_points:
        return True
    return rise >= 1 and baseline > 0 and rise >= baseline * t.flare_fraction


@dataclass(frozen=True)
class Before:
    """The pain a session started from: a `before` check-in, or the median rest pain of
    the 7 days before it (ruleset v2, P2)."""

    pain: float
    checkin: CheckIn | None  # None: the median of `days` rest-pain check-ins
    readings: int = 1


def before_pain(log: SessionLog, checkins: Sequence[CheckIn]) -> Before | None:
    # Only what was reported before the session began (a few minutes' grace) describes
    # the pain it started from.
    tagged = [
        c
        for c in checkins
        if c.phase == "before"
        and c.session_id == log.session_id
        and c.recorded_at <= log.started_at + BEFORE_GRACE
    ]
    if tagged:
        return Before(tagged[-1].pain, tagged[-1])
    earlier = [
        c.pain
        for c in checkins
        if c.phase in REST_PHASES
        and log.started_at - BEFORE_WINDOW <= c.recorded_at <= log.started_at
    ]
    return Before(median(earlier), None, len(earlier)) if earlier else None


def next_morning(log: SessionLog, checkins: Sequence[CheckIn]) -> CheckIn | None:
    tagged = [
        c
        for c in checkins
        if c.phase == "next_morning"
        and c.session_id == log.session_id
        and c.recorded_at > log.ended_at
    ]
    if tagged:
        return tagged[0]
    after = [
        c
        for c in checkins
        if c.phase == "next_morning"
        and c.session_id is None
        and log.ended_at < c.recorded_at <= log.ended_at + NEXT_MORNING_WINDOW
    ]
    return after[0] if after else None


def morning_after(
    log: SessionLog, checkins: Sequence[CheckIn]
) -> tuple[Before | None, CheckIn | None]:
    """(pain before the session, pain the next morning) for one session."""
    return before_pain(log, checkins), next_morning(log, checkins)


def done_exercises(log: SessionLog) -> tuple[str, ...]:
    return memo(log, "_done_exercises", _done_exercises)


def _done_exercises(log: SessionLog) -> tuple[str, ...]:
    return tuple(sorted({e.exercise_slug for e in log.entries if not e.skipped}))


# --- a total order, so arrival order cannot change a result ------------------------------


def _checkin_key(c: CheckIn) -> tuple[Any, ...]:
    return memo(c, "_order_key", _checkin_order)


def _checkin_order(c: CheckIn) -> tuple[Any, ...]:
    return (
        c.recorded_at,
        c.id,
        c.phase,
        c.pain,
        tuple(sorted(c.red_flags)),
        c.red_flags_resolved,
        c.session_id or "",
        c.exercise_slug or "",
        tuple(sorted(c.denied)),
        c.assessed_by or "",
        c.assessed_at or c.recorded_at,
        _none_last(None if c.radiating_below_knee is None else int(c.radiating_below_knee)),
        _none_last(None if c.leg_numbness is None else int(c.leg_numbness)),
        tuple(sorted(c.locations)),
    )


def _none_last(value: int | None) -> int:
    return -1 if value is None else value


def _log_key(log: SessionLog) -> tuple[Any, ...]:
    return memo(log, "_order_key", _log_order)


def _log_order(log: SessionLog) -> tuple[Any, ...]:
    entries = tuple(
        sorted(
            (
                e.exercise_slug,
                e.sets_completed,
                e.reps,
                _none_last(e.hold_seconds),
                _none_last(e.rpe),
                _none_last(e.pain_during),
                e.skipped,
                (
                    e.prescribed.sets,
                    _none_last(e.prescribed.reps),
                    _none_last(e.prescribed.hold_seconds),
                ),
            )
            for e in log.entries
        )
    )
    return (log.started_at, log.session_id, log.ended_at, _none_last(log.pain_after), entries)


def canonical_checkins(items: Iterable[CheckIn]) -> list[CheckIn]:
    """Sorted with a total order, one per id (its greatest version)."""
    latest = {c.id: c for c in sorted(items, key=_checkin_key)}
    return sorted(latest.values(), key=_checkin_key)


def canonical_logs(items: Iterable[SessionLog]) -> list[SessionLog]:
    latest = {log.session_id: log for log in sorted(items, key=_log_key)}
    return sorted(latest.values(), key=_log_key)


@dataclass(frozen=True)
class Context:
    """Everything one evaluation reads, in canonical order, for every rule alike."""

    history: History
    now: datetime
    today: date  # the person's local day
    tz: tzinfo
    thresholds: Thresholds
    catalog: Mapping[str, CatalogDose]
    checkins: Sequence[CheckIn]
    logs: Sequence[SessionLog]
    doses: Sequence[Dose]
    daily: Mapping[date, float]  # rest pain per local day
    rest: Sequence[CheckIn]  # rest-pain check-ins, oldest first
    # What several rules look up alike (a session's morning after, the latest session
    # pain), worked out once per evaluation: see `once`.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def once(self, key: Any, work: Callable[[], T]) -> T:
        """`work()`, computed the first time `key` is asked for in this evaluation."""
        if key not in self.memo:
            self.memo[key] = work()
        found: T = self.memo[key]
        return found

    def morning_after(self, log: SessionLog) -> tuple[Before | None, CheckIn | None]:
        """morning_after(log, self.checkins), each half once per session."""
        return self.before(log), self.next_morning(log)

    def before(self, log: SessionLog) -> Before | None:
        return self.once(("before", log.session_id), lambda: before_pain(log, self.checkins))

    def next_morning(self, log: SessionLog) -> CheckIn | None:
        return self.once(("morning", log.session_id), lambda: next_morning(log, self.checkins))

    def name(self, slug: str) -> str:
        return display_name(slug, self.catalog)

    def names(self, slugs: Iterable[str]) -> str:
        return names(slugs, self.catalog)

    def latest_rest(self) -> CheckIn | None:
        """The latest rest-pain check-in ever (the window's, or the one loaded beyond it)."""
        found = [c for c in (*self.rest[-1:], self.history.last_rest) if c is not None]
        return max(found, key=lambda c: (c.recorded_at, c.id)) if found else None


def anchor(history: History, now: datetime) -> datetime:
    """The latest moment with data, at or before `now`: the evidence window ends there,
    so a stretch of silence never slides a warning's evidence out of view (ruleset v2,
    "silence is not improvement")."""
    moments = [c.recorded_at for c in history.checkins if c.recorded_at <= now]
    moments += [log.started_at for log in history.logs if log.started_at <= now]
    return max(moments, default=now)


def context(
    history: History,
    now: datetime,
    window: timedelta,
    thresholds: Thresholds,
    catalog: Mapping[str, CatalogDose],
) -> Context:
    since = anchor(history, now) - window
    # Rest pain keeps its own window, back from the latest rest-pain check-in: sessions
    # logged without rest check-ins never slide the evidence of F1, F2 or RF3 away.
    rests = [c.recorded_at for c in history.checkins if c.phase in REST_PHASES]
    if history.last_rest is not None:
        rests.append(history.last_rest.recorded_at)
    rest_since = min(since, max((r for r in rests if r <= now), default=now) - window)
    tz = zone(history.timezone)
    checkins = canonical_checkins(
        c
        for c in history.checkins
        if c.recorded_at <= now
        and (since <= c.recorded_at or (c.phase in REST_PHASES and rest_since <= c.recorded_at))
    )
    return Context(
        history=history,
        now=now,
        today=local_day(now, tz),
        tz=tz,
        thresholds=thresholds,
        catalog=catalog,
        checkins=checkins,
        logs=canonical_logs(log for log in history.logs if since <= log.started_at <= now),
        doses=sorted(history.doses, key=lambda d: d.exercise_slug),
        daily=daily_rest_means(checkins, tz),
        rest=[c for c in checkins if c.phase in REST_PHASES],
    )
