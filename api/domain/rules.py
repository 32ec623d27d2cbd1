"""The rule service: pain check-ins and workout logs in, explainable advice out.

Pure: no framework, no database, no clock (`now` is an argument). The rules are
CLINICAL.md's default table (ruleset v1). Every rule that fires is reported with
the data that fired it; the most severe sets the status. Evaluation reads a
bounded window of history (WINDOW), so its cost does not grow with years of data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any

from api.domain.ladder import CatalogDose, step_up, volume
from api.domain.thresholds import DEFAULT_THRESHOLDS, Thresholds
from api.domain.types import (
    ACTION_SEVERITY,
    CAUDA_EQUINA_FLAGS,
    REST_PHASES,
    SERIOUS_CAUSE_FLAGS,
    SEVERITY,
    Action,
    Advice,
    CheckIn,
    Dose,
    History,
    Reason,
    SessionLog,
    Status,
)

RULESET_VERSION = "v1"

# How much history one evaluation needs: F2's 4 review weeks plus a week of slack;
# F1's 7 + 14 days fit inside. The service loads no more than this.
WINDOW = timedelta(days=35)
# F1 (Ostelo 2008 applied to worsening): the last 7 days against the 14 before.
FLARE_RECENT_DAYS = 7
FLARE_BASELINE_DAYS = 14
# Too few days make a mean meaningless; below these F1 stays silent.
FLARE_MIN_RECENT_DAYS = 3
FLARE_MIN_BASELINE_DAYS = 4
# F2 judges "improvement" by the minimal important change itself (Ostelo 2008), fixed:
# tuning the flare thresholds must never make F2 fire less.
IMPROVEMENT_POINTS = 2.0
IMPROVEMENT_FRACTION = 0.30
# F2: "regular check-ins" means at least this many days with a check-in each week.
REVIEW_MIN_DAYS_PER_WEEK = 3
# RF3: "pain at rest" is judged on the latest rest check-in of the last week.
REST_PAIN_LOOKBACK = timedelta(days=7)
# P2/P3: a next-morning check-in counts for a session ending at most this long before.
NEXT_MORNING_WINDOW = timedelta(hours=36)
# P2/P3: without a `before` check-in, the latest rest check-in this long before counts.
BEFORE_WINDOW = timedelta(hours=24)
# A `before` check-in made just as the session started still counts as before it.
BEFORE_GRACE = timedelta(minutes=15)
# P4 (ACSM 2009): the last 2 sessions of an exercise must both have gone well.
PROGRESS_SESSIONS = 2
# V1 (Nielsen 2014): weekly volume is compared with the last 2 weeks.
VOLUME_WEEKS = 2


# --- helpers -------------------------------------------------------------------------


def _iso(value: datetime) -> str:
    return value.isoformat()


def _round(value: float) -> float:
    return round(value, 2)


def _daily_means(checkins: Iterable[CheckIn]) -> dict[date, float]:
    """Rest-phase pain per UTC day (a day with many check-ins counts once)."""
    per_day: dict[date, list[int]] = defaultdict(list)
    for c in checkins:
        if c.phase in REST_PHASES:
            per_day[c.recorded_at.date()].append(c.pain)
    return {day: fmean(values) for day, values in per_day.items()}


def _meaningful_rise(rise: float, baseline: float, t: Thresholds) -> bool:
    """Minimal important change (Ostelo 2008): 2 points or 30% over the baseline."""
    if rise <= 0:
        return False
    return rise >= t.flare_points or (baseline > 0 and rise >= baseline * t.flare_fraction)


def _resolves(resolution: CheckIn, flag: CheckIn) -> bool:
    """A resolution counts for a flag it came after, by the person's clock and by arrival:
    a flag reported offline and synced later is not cleared by an earlier resolution."""
    return resolution.recorded_at > flag.recorded_at and resolution.arrived >= flag.arrived


def _before_pain(log: SessionLog, checkins: Sequence[CheckIn]) -> CheckIn | None:
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
        return tagged[-1]
    earlier = [
        c
        for c in checkins
        if c.phase in REST_PHASES
        and log.started_at - BEFORE_WINDOW <= c.recorded_at <= log.started_at
    ]
    return earlier[-1] if earlier else None


def _next_morning(log: SessionLog, checkins: Sequence[CheckIn]) -> CheckIn | None:
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


def _done_exercises(log: SessionLog) -> tuple[str, ...]:
    return tuple(sorted({e.exercise_slug for e in log.entries if not e.skipped}))


# --- red flags --------------------------------------------------------------------------


def _latest_unresolved(
    candidates: Iterable[CheckIn | None], resolutions: Sequence[CheckIn]
) -> CheckIn | None:
    flagged = [c for c in candidates if c is not None]
    if not flagged:
        return None
    latest = max(flagged, key=lambda c: (c.recorded_at, c.id))
    if any(_resolves(r, latest) for r in resolutions):
        return None
    return latest


_RF1_MESSAGE = (
    "Stop exercising and get emergency medical care now: call your local emergency number "
    "or go to an emergency department today. The symptoms you reported must be checked "
    "urgently by a doctor. Do not restart your exercises until a professional has seen you."
)
_RF2_MESSAGE = (
    "Please see a doctor soon, within the next few days, about what you reported. Until "
    "then, keep your exercises at their current level or easier, and stop any that make "
    "things worse. When you have been seen, record it in a check-in."
)
_RF3_MESSAGE = (
    "Constant pain at night that does not ease when you change position should be checked. "
    "Please book a doctor's appointment soon, and do not increase your exercises until then."
)


def _red_flag_reasons(checkins: Sequence[CheckIn], history: History) -> list[Reason]:
    """RF1-RF3 flags stand until a clean resolution check-in (or a clinician) follows."""
    resolutions = [c for c in checkins if c.resolves]
    if history.last_resolution is not None:
        resolutions.append(history.last_resolution)
    kinds: list[tuple[str, Status, str, str, CheckIn | None, frozenset[str]]] = [
        ("RF1", "urgent_care", _RF1_MESSAGE, "cauda_equina", history.last_cauda_equina,
         CAUDA_EQUINA_FLAGS),
        ("RF2", "see_doctor", _RF2_MESSAGE, "serious_cause", history.last_serious_cause,
         SERIOUS_CAUSE_FLAGS),
        ("RF3", "see_doctor", _RF3_MESSAGE, "night_pain", history.last_night_pain,
         frozenset()),
    ]  # fmt: skip
    reasons: list[Reason] = []
    for rule_id, status, message, kind, last_ever, shown in kinds:
        flagged = [c for c in checkins if getattr(c, kind)]
        latest = _latest_unresolved([*flagged, last_ever], resolutions)
        if latest is None:
            continue
        evidence: dict[str, Any] = {
            "checkin_id": latest.id,
            "recorded_at": _iso(latest.recorded_at),
        }
        if shown:
            evidence["flags"] = sorted(latest.red_flags & shown)
        reasons.append(Reason(rule_id, status, message, evidence, source=latest.id))
    return reasons


def _rest_pain_reason(checkins: Sequence[CheckIn], t: Thresholds, now: datetime) -> Reason | None:
    rest = [
        c
        for c in checkins
        if c.phase in REST_PHASES and now - REST_PAIN_LOOKBACK <= c.recorded_at <= now
    ]
    if not rest or rest[-1].pain < t.rest_pain_doctor:
        return None
    latest = rest[-1]
    return Reason(
        "RF3",
        "see_doctor",
        f"Your pain at rest is very high ({latest.pain} out of 10). Please see a doctor "
        "soon, and do not increase your exercises until you have.",
        {
            "checkin_id": latest.id,
            "recorded_at": _iso(latest.recorded_at),
            "pain": latest.pain,
            "threshold": t.rest_pain_doctor,
        },
        source=latest.id,
    )


# --- pain trend (F1, F2) -----------------------------------------------------------------


def _flare_reason(
    daily: Mapping[date, float], doses: Sequence[Dose], t: Thresholds, today: date
) -> Reason | None:
    recent_days = [today - timedelta(days=i) for i in range(FLARE_RECENT_DAYS)]
    baseline_days = [
        today - timedelta(days=FLARE_RECENT_DAYS + i) for i in range(FLARE_BASELINE_DAYS)
    ]
    recent = [daily[d] for d in recent_days if d in daily]
    baseline = [daily[d] for d in baseline_days if d in daily]
    if len(recent) < FLARE_MIN_RECENT_DAYS or len(baseline) < FLARE_MIN_BASELINE_DAYS:
        return None
    recent_mean, baseline_mean = fmean(recent), fmean(baseline)
    rise = recent_mean - baseline_mean
    if not _meaningful_rise(rise, baseline_mean, t):
        return None
    # How long it has lasted, in calendar days: from the first raised day of the latest
    # run of raised days (days without a check-in do not break a run; an ordinary day
    # does) to its last raised day.
    run: list[date] = []
    for day in sorted(daily, reverse=True):
        if _meaningful_rise(daily[day] - baseline_mean, baseline_mean, t):
            run.append(day)
        elif run:
            break
    lasted = (run[0] - run[-1]).days + 1 if run and run[0] == max(daily) else 0
    began = run[-1] if run else today
    evidence = {
        "recent_mean": _round(recent_mean),
        "baseline_mean": _round(baseline_mean),
        "rise": _round(rise),
        "days_raised": lasted,
        "flare_began": began.isoformat(),
        "recent_days": len(recent),
        "baseline_days": len(baseline),
    }
    exercises = tuple(sorted(d.exercise_slug for d in doses))
    if lasted >= t.flare_days_for_doctor:
        return Reason(
            "F1",
            "see_doctor",
            f"Your pain has been clearly higher than your usual level for {lasted} days. "
            "This may be a flare-up; they are common and usually settle, but please check "
            "in with your doctor or physical therapist. Keep moving gently with easier "
            "exercises in the meantime.",
            evidence,
            exercises,
            # One flare, one easing of the exercises: keyed by the day it began.
            source=began.isoformat(),
        )
    return Reason(
        "F1",
        "regress",
        "Your pain this week is clearly higher than your usual level. This may be a "
        "flare-up: they are common and usually settle. Keep moving gently; your exercises "
        "are eased back a step for now.",
        evidence,
        exercises,
        source=began.isoformat(),
    )


def _review_reason(daily: Mapping[date, float], t: Thresholds, today: date) -> Reason | None:
    weeks = int(t.review_weeks)
    means: list[float] = []
    for week in range(weeks):
        days = [today - timedelta(days=7 * week + i) for i in range(7)]
        values = [daily[d] for d in days if d in daily]
        if len(values) < REVIEW_MIN_DAYS_PER_WEEK:
            return None
        means.append(fmean(values))
    latest, first = means[0], means[-1]
    if latest < t.review_min_mean:
        return None
    drop = first - latest
    if drop >= IMPROVEMENT_POINTS or (first > 0 and drop >= first * IMPROVEMENT_FRACTION):
        return None
    return Reason(
        "F2",
        "see_doctor",
        f"Your pain has not improved over the last {weeks} weeks. Please arrange a review "
        "with your doctor or physical therapist to check that this plan is right for you.",
        {"weekly_means": [_round(m) for m in reversed(means)], "weeks": weeks},
        source=(today - timedelta(days=7 * weeks - 1)).isoformat(),
    )


# --- sessions (P1-P4, V1) ----------------------------------------------------------------


def _during_reasons(
    checkins: Sequence[CheckIn],
    logs: Sequence[SessionLog],
    doses: Sequence[Dose],
    t: Thresholds,
) -> list[Reason]:
    """P1 and the during-pain half of P3, on each exercise's latest occasion.

    An occasion is a session (its log and the check-ins tagged with it) or a lone
    `during` check-in; within one, the highest pain counts. A `during` check-in that
    names no exercise counts for every exercise of its session, or for the whole
    routine when it names no session either.
    """
    by_session = {log.session_id: log for log in logs}
    routine = [d.exercise_slug for d in doses]
    occasions: dict[str, tuple[datetime, dict[str, int]]] = {}

    def add(key: str, at: datetime, slugs: Iterable[str], pain: int) -> None:
        when, pains = occasions.get(key, (at, {}))
        for slug in slugs:
            pains[slug] = max(pains.get(slug, 0), pain)
        occasions[key] = (max(when, at), pains)

    for log in logs:
        for entry in log.entries:
            if entry.pain_during is not None and not entry.skipped:
                add(log.session_id, log.ended_at, [entry.exercise_slug], entry.pain_during)
    for c in checkins:
        if c.phase != "during":
            continue
        if c.exercise_slug:
            slugs: Sequence[str] = [c.exercise_slug]
        elif c.session_id in by_session:
            slugs = _done_exercises(by_session[c.session_id])
        else:
            slugs = routine
        add(c.session_id or c.id, c.recorded_at, slugs, c.pain)

    latest: dict[str, tuple[datetime, int, str]] = {}
    for key, (at, pains) in occasions.items():
        for slug, pain in pains.items():
            seen = latest.get(slug)
            if seen is None or (at, pain, key) > seen:
                latest[slug] = (at, pain, key)
    reasons: list[Reason] = []
    for slug in sorted(latest):
        at, pain, source = latest[slug]
        evidence = {"exercise": slug, "pain_during": pain, "at": _iso(at), "source": source}
        if pain > t.during_pain_max:
            reasons.append(
                Reason(
                    "P1",
                    "regress",
                    f"Pain during {slug} went above {t.during_pain_max:g} out of 10, which is "
                    "too much. It is made easier for next time.",
                    evidence,
                    (slug,),
                    source=source,
                )
            )
        elif pain > t.during_pain_safe_max:
            reasons.append(
                Reason(
                    "P3",
                    "hold",
                    f"Pain during {slug} was in the acceptable zone ({pain} out of 10). "
                    "Repeat the same dose next time rather than increasing it.",
                    evidence,
                    (slug,),
                    source=source,
                )
            )
    return reasons


def _morning_after(
    log: SessionLog, checkins: Sequence[CheckIn]
) -> tuple[CheckIn | None, CheckIn | None]:
    return _before_pain(log, checkins), _next_morning(log, checkins)


def _next_morning_reason(
    checkins: Sequence[CheckIn], logs: Sequence[SessionLog], t: Thresholds
) -> Reason | None:
    """P2 and the next-morning half of P3, on the latest session with a morning reading."""
    for log in reversed(logs):
        before, morning = _morning_after(log, checkins)
        if morning is None:
            continue
        rise = morning.pain - before.pain if before is not None else None
        evidence: dict[str, Any] = {
            "session_id": log.session_id,
            "next_morning_pain": morning.pain,
            "before_pain": before.pain if before is not None else None,
            "rise": rise,
        }
        exercises = _done_exercises(log)
        if morning.pain > t.next_morning_pain_max or (
            rise is not None and rise >= t.next_morning_rise_regress
        ):
            return Reason(
                "P2",
                "regress",
                "Your pain the morning after your last session was clearly higher than "
                "before it. That session's exercises are eased back a step.",
                evidence,
                exercises,
                source=log.session_id,
            )
        if rise is not None and rise >= 1:
            return Reason(
                "P3",
                "hold",
                "Your pain was a little higher the morning after your last session. Repeat "
                "the same doses next time rather than increasing them.",
                evidence,
                exercises,
                source=log.session_id,
            )
        return None
    return None


def _pain_rising(daily: Mapping[date, float], today: date) -> bool:
    """Rest pain of the last week above the weeks before it (or rising within it)."""
    recent_start = today - timedelta(days=FLARE_RECENT_DAYS - 1)
    recent = [v for d, v in sorted(daily.items()) if d >= recent_start]
    older = [v for d, v in sorted(daily.items()) if d < recent_start]
    if not recent:
        return False
    if older:
        return fmean(recent) > fmean(older)
    return recent[-1] > recent[0]


def _went_well(
    log: SessionLog, slug: str, dose: Dose, checkins: Sequence[CheckIn], t: Thresholds
) -> bool:
    entries = [e for e in log.entries if e.exercise_slug == slug and not e.skipped]
    if not entries:
        return False
    e = entries[-1]
    p = e.prescribed
    if (p.sets, p.reps, p.hold_seconds) != (dose.sets, dose.reps, dose.hold_seconds):
        return False  # done at another dose: it says nothing about this one
    if e.sets_completed < p.sets or len(e.reps) < p.sets:
        return False
    if p.reps is not None and any(r < p.reps for r in e.reps[: p.sets]):
        return False
    if p.hold_seconds is not None and (e.hold_seconds is None or e.hold_seconds < p.hold_seconds):
        return False
    if e.pain_during is None or e.pain_during > t.during_pain_safe_max:
        return False
    if e.rpe is None or e.rpe > t.progress_rpe_max:
        return False
    # Pain reported during or right after this session must also have been in the safe
    # zone: the session was not comfortable otherwise.
    if log.pain_after is not None and log.pain_after > t.during_pain_safe_max:
        return False
    for c in checkins:
        if (
            c.session_id == log.session_id
            and c.phase in ("during", "after")
            and c.exercise_slug in (None, slug)
            and c.pain > t.during_pain_safe_max
        ):
            return False
    before, morning = _morning_after(log, checkins)
    return not (morning is not None and before is not None and morning.pain > before.pain)


def _progress_candidates(
    checkins: Sequence[CheckIn],
    logs: Sequence[SessionLog],
    doses: Sequence[Dose],
    daily: Mapping[date, float],
    t: Thresholds,
    today: date,
) -> list[tuple[Dose, Reason]]:
    """P4: exercises whose last two sessions at the current dose went comfortably."""
    if _pain_rising(daily, today):
        return []
    out: list[tuple[Dose, Reason]] = []
    for dose in sorted(doses, key=lambda d: d.exercise_slug):
        slug = dose.exercise_slug
        sessions = [
            log
            for log in logs
            if any(e.exercise_slug == slug and not e.skipped for e in log.entries)
        ][-PROGRESS_SESSIONS:]
        if len(sessions) < PROGRESS_SESSIONS:
            continue
        if not all(_went_well(log, slug, dose, checkins, t) for log in sessions):
            continue
        # Pain must be known to have settled after the latest session (Silbernagel 2007).
        before, morning = _morning_after(sessions[-1], checkins)
        if morning is None:
            continue
        settled_at = before.pain if before is not None else t.during_pain_safe_max
        if morning.pain > settled_at:
            continue
        out.append(
            (
                dose,
                Reason(
                    "P4",
                    "progress",
                    f"You did {slug} comfortably in your last {PROGRESS_SESSIONS} sessions "
                    "and your pain settled by the next morning: time for a small step up.",
                    {
                        "exercise": slug,
                        "sessions": [log.session_id for log in sessions],
                        "next_morning_pain": morning.pain,
                    },
                    (slug,),
                    source=sessions[-1].session_id,
                ),
            )
        )
    return out


def _weekly_volume_done(logs: Sequence[SessionLog], now: datetime) -> tuple[float, float]:
    """(volume done per week, sessions per week) over the last VOLUME_WEEKS weeks."""
    since = now - timedelta(weeks=VOLUME_WEEKS)
    recent = [log for log in logs if since <= log.started_at <= now]
    done = 0.0
    for log in recent:
        for e in log.entries:
            if e.skipped or e.sets_completed <= 0:
                continue
            reps = round(fmean(e.reps)) if e.reps else None
            done += volume(
                Dose(e.exercise_slug, e.sets_completed, reps, e.hold_seconds, e.prescribed.per_side)
            )
    return done / VOLUME_WEEKS, len(recent) / VOLUME_WEEKS


def _cap_volume(
    candidates: list[tuple[Dose, Reason]],
    doses: Sequence[Dose],
    logs: Sequence[SessionLog],
    catalog: Mapping[str, CatalogDose],
    t: Thresholds,
    now: datetime,
) -> tuple[list[Reason], list[Reason]]:
    """V1: accept progressions while planned weekly volume stays within the cap."""
    done_weekly, sessions_weekly = _weekly_volume_done(logs, now)
    per_week = max(sessions_weekly, 1.0)
    planned = per_week * sum(volume(d) for d in doses)
    cap = done_weekly * (1 + t.volume_growth_max)
    accepted: list[Reason] = []
    capped: list[Reason] = []
    for dose, reason in candidates:
        nxt = step_up(dose, catalog)
        if nxt is None:
            continue  # top of the ladder, nothing harder: stay
        extra = per_week * (volume(nxt) - volume(dose))
        if planned + extra > cap:
            capped.append(
                Reason(
                    "V1",
                    "hold",
                    f"To keep your weekly training load growing gradually, {dose.exercise_slug} "
                    "stays at the same dose for now.",
                    {
                        "exercise": dose.exercise_slug,
                        "weekly_volume_done": _round(done_weekly),
                        "weekly_volume_planned": _round(planned + extra),
                        "cap": _round(cap),
                    },
                    (dose.exercise_slug,),
                )
            )
            continue
        planned += extra
        accepted.append(reason)
    return accepted, capped


# --- putting it together ---------------------------------------------------------------


def _checkin_key(c: CheckIn) -> tuple[Any, ...]:
    return (
        c.recorded_at,
        c.id,
        c.phase,
        c.pain,
        tuple(sorted(c.red_flags)),
        c.red_flags_resolved,
        c.session_id or "",
        c.exercise_slug or "",
    )


def _log_key(log: SessionLog) -> tuple[Any, ...]:
    def none_last(value: int | None) -> int:
        return -1 if value is None else value

    entries = tuple(
        sorted(
            (
                e.exercise_slug,
                e.sets_completed,
                e.reps,
                none_last(e.hold_seconds),
                none_last(e.rpe),
                none_last(e.pain_during),
                e.skipped,
                (
                    e.prescribed.sets,
                    none_last(e.prescribed.reps),
                    none_last(e.prescribed.hold_seconds),
                ),
            )
            for e in log.entries
        )
    )
    return (log.started_at, log.session_id, log.ended_at, none_last(log.pain_after), entries)


def _canonical_checkins(items: Iterable[CheckIn]) -> list[CheckIn]:
    """Sorted with a total order, one per id (its greatest version): arrival order cannot
    change the result."""
    latest = {c.id: c for c in sorted(items, key=_checkin_key)}
    return sorted(latest.values(), key=_checkin_key)


def _canonical_logs(items: Iterable[SessionLog]) -> list[SessionLog]:
    latest = {log.session_id: log for log in sorted(items, key=_log_key)}
    return sorted(latest.values(), key=_log_key)


def _actions(reasons: Sequence[Reason], doses: Sequence[Dose], status: Status) -> dict[str, Action]:
    by_status: dict[str, Action] = {
        "progress": "progress",
        "hold": "hold",
        "regress": "regress",
        "see_doctor": "regress",
    }
    named: dict[str, Action] = {}
    for reason in reasons:
        action = by_status.get(reason.status)
        if action is None:
            continue
        for slug in reason.exercises:
            current = named.get(slug)
            if current is None or ACTION_SEVERITY[action] > ACTION_SEVERITY[current]:
                named[slug] = action
    actions: dict[str, Action] = {
        d.exercise_slug: named.get(d.exercise_slug, "maintain") for d in doses
    }
    if status == "urgent_care":
        return dict.fromkeys(actions, "stop")
    if SEVERITY[status] >= SEVERITY["see_doctor"]:
        # No progression while a doctor's view is pending.
        return {s: ("hold" if a in ("progress", "maintain") else a) for s, a in actions.items()}
    # V1 only caps some progressions; any other rule above `maintain` stops them all.
    if any(r.rule_id != "V1" and SEVERITY[r.status] > SEVERITY["maintain"] for r in reasons):
        return {s: ("maintain" if a == "progress" else a) for s, a in actions.items()}
    return actions


def evaluate(
    history: History,
    now: datetime,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    catalog: Mapping[str, CatalogDose] | None = None,
) -> Advice:
    """Advice for one person at `now`, from their recent history."""
    catalog = catalog or {}
    since = now - WINDOW
    checkins = _canonical_checkins(c for c in history.checkins if since <= c.recorded_at <= now)
    logs = _canonical_logs(log for log in history.logs if since <= log.started_at <= now)
    doses = sorted(history.doses, key=lambda d: d.exercise_slug)
    today = now.date()
    daily = _daily_means(checkins)

    reasons: list[Reason] = _red_flag_reasons(checkins, history)
    for maybe in (
        _rest_pain_reason(checkins, thresholds, now),
        _flare_reason(daily, doses, thresholds, today),
        _review_reason(daily, thresholds, today),
        _next_morning_reason(checkins, logs, thresholds),
    ):
        if maybe is not None:
            reasons.append(maybe)
    reasons += _during_reasons(checkins, logs, doses, thresholds)

    # P4 only when no other rule is above `maintain` (CLINICAL.md).
    if not reasons:
        candidates = _progress_candidates(checkins, logs, doses, daily, thresholds, today)
        accepted, capped = _cap_volume(candidates, doses, logs, catalog, thresholds, now)
        reasons += accepted + capped

    status: Status = "maintain"
    if reasons:
        status = max((r.status for r in reasons), key=lambda s: SEVERITY[s])
    reasons.sort(key=lambda r: (-SEVERITY[r.status], r.rule_id, r.exercises))
    return Advice(
        status=status,
        reasons=tuple(reasons),
        exercises=_actions(reasons, doses, status),
        ruleset_version=RULESET_VERSION,
        evaluated_at=now,
    )
