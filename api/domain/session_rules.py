"""Evaluators of P1-P4 and V1: pain during, after and the morning after exercise.

Their rows, messages and sources are in `api/domain/rule_table.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from api.domain.evidence import Context, done_exercises, iso, morning_after, rounded
from api.domain.ladder import step_up, volume
from api.domain.rule import Rule
from api.domain.trend_rules import FLARE_RECENT_DAYS
from api.domain.types import CheckIn, Dose, Reason, SessionLog

# P4 (ACSM 2009): the last 2 sessions of an exercise must both have gone well.
PROGRESS_SESSIONS = 2
# V1 (Nielsen 2014): weekly volume is compared with the last 2 weeks.
VOLUME_WEEKS = 2


# --- pain during exercise (P1, and P3's during half) -------------------------------------


def _latest_during(ctx: Context) -> dict[str, tuple[datetime, int, str]]:
    """Per exercise, its latest occasion's highest pain during: (when, pain, occasion).

    An occasion is a session (its log and the check-ins tagged with it) or a lone
    `during` check-in. A `during` check-in that names no exercise counts for every
    exercise of its session, or for the whole routine when it names no session either.
    """
    by_session = {log.session_id: log for log in ctx.logs}
    routine = [d.exercise_slug for d in ctx.doses]
    occasions: dict[str, tuple[datetime, dict[str, int]]] = {}

    def add(key: str, at: datetime, slugs: Iterable[str], pain: int) -> None:
        when, pains = occasions.get(key, (at, {}))
        for slug in slugs:
            pains[slug] = max(pains.get(slug, 0), pain)
        occasions[key] = (max(when, at), pains)

    for log in ctx.logs:
        for entry in log.entries:
            if entry.pain_during is not None and not entry.skipped:
                add(log.session_id, log.ended_at, [entry.exercise_slug], entry.pain_during)
    for c in ctx.checkins:
        if c.phase != "during":
            continue
        if c.exercise_slug:
            slugs: Sequence[str] = [c.exercise_slug]
        elif c.session_id in by_session:
            slugs = done_exercises(by_session[c.session_id])
        else:
            slugs = routine
        add(c.session_id or c.id, c.recorded_at, slugs, c.pain)

    latest: dict[str, tuple[datetime, int, str]] = {}
    for key, (at, pains) in occasions.items():
        for slug, pain in pains.items():
            seen = latest.get(slug)
            if seen is None or (at, pain, key) > seen:
                latest[slug] = (at, pain, key)
    return latest


def _during_reasons(rule: Rule, ctx: Context, low: float, high: float | None) -> list[Reason]:
    """A reason per exercise whose latest pain during lies above `low` (and up to `high`)."""
    reasons = []
    for slug, (at, pain, source) in sorted(_latest_during(ctx).items()):
        if pain > low and (high is None or pain <= high):
            evidence = {"exercise": slug, "pain_during": pain, "at": iso(at), "source": source}
            reasons.append(
                rule.reason(
                    rule.statuses[0],
                    "during",
                    evidence,
                    (slug,),
                    source=source,
                    exercise=slug,
                    pain=pain,
                    limit=low,
                )  # fmt: skip
            )
    return reasons


def p1_session_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    return _during_reasons(rule, ctx, ctx.thresholds.during_pain_max, None)


# --- the morning after (P2, and P3's next-morning half) ----------------------------------


def _latest_morning(
    ctx: Context,
) -> tuple[SessionLog, CheckIn | None, CheckIn] | None:
    """The latest session with a next-morning reading: (log, before, next morning)."""
    for log in reversed(ctx.logs):
        before, morning = morning_after(log, ctx.checkins)
        if morning is not None:
            return log, before, morning
    return None


def _morning_evidence(
    log: SessionLog, before: CheckIn | None, morning: CheckIn
) -> tuple[dict[str, Any], int | None]:
    rise = morning.pain - before.pain if before is not None else None
    evidence: dict[str, Any] = {
        "session_id": log.session_id,
        "next_morning_pain": morning.pain,
        "before_pain": before.pain if before is not None else None,
        "rise": rise,
    }
    return evidence, rise


def _morning_too_high(ctx: Context, morning: CheckIn, rise: int | None) -> bool:
    t = ctx.thresholds
    return morning.pain > t.next_morning_pain_max or (
        rise is not None and rise >= t.next_morning_rise_regress
    )


def p2_next_morning_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    latest = _latest_morning(ctx)
    if latest is None:
        return []
    log, before, morning = latest
    evidence, rise = _morning_evidence(log, before, morning)
    if not _morning_too_high(ctx, morning, rise):
        return []
    return [rule.reason("regress", "morning", evidence, done_exercises(log), source=log.session_id)]


def p3_acceptable_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    t = ctx.thresholds
    reasons = []
    latest = _latest_morning(ctx)
    if latest is not None:
        log, before, morning = latest
        evidence, rise = _morning_evidence(log, before, morning)
        if not _morning_too_high(ctx, morning, rise) and rise is not None and rise >= 1:
            reasons.append(
                rule.reason("hold", "morning", evidence, done_exercises(log), source=log.session_id)
            )
    return reasons + _during_reasons(rule, ctx, t.during_pain_safe_max, t.during_pain_max)


# --- progression (P4) and its cap (V1) ---------------------------------------------------


def _pain_rising(ctx: Context) -> bool:
    """Rest pain of the last week above the weeks before it (or rising within it)."""
    recent_start = ctx.today - timedelta(days=FLARE_RECENT_DAYS - 1)
    recent = [v for d, v in sorted(ctx.daily.items()) if d >= recent_start]
    older = [v for d, v in sorted(ctx.daily.items()) if d < recent_start]
    if not recent:
        return False
    if older:
        return fmean(recent) > fmean(older)
    return recent[-1] > recent[0]


def _went_well(log: SessionLog, slug: str, dose: Dose, ctx: Context) -> bool:
    t = ctx.thresholds
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
    for c in ctx.checkins:
        if (
            c.session_id == log.session_id
            and c.phase in ("during", "after")
            and c.exercise_slug in (None, slug)
            and c.pain > t.during_pain_safe_max
        ):
            return False
    before, morning = morning_after(log, ctx.checkins)
    return not (morning is not None and before is not None and morning.pain > before.pain)


def p4_progress(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    """Exercises whose last two sessions at the current dose went comfortably.

    Only when no rule before it in the table found anything (CLINICAL.md: "no other rule
    above maintain"), and never while rest pain is rising.
    """
    if found or _pain_rising(ctx):
        return []
    out: list[Reason] = []
    for dose in ctx.doses:
        slug = dose.exercise_slug
        sessions = [
            log
            for log in ctx.logs
            if any(e.exercise_slug == slug and not e.skipped for e in log.entries)
        ][-PROGRESS_SESSIONS:]
        if len(sessions) < PROGRESS_SESSIONS:
            continue
        if not all(_went_well(log, slug, dose, ctx) for log in sessions):
            continue
        # Pain must be known to have settled after the latest session (Silbernagel 2007).
        before, morning = morning_after(sessions[-1], ctx.checkins)
        if morning is None:
            continue
        settled_at = before.pain if before is not None else ctx.thresholds.during_pain_safe_max
        if morning.pain > settled_at:
            continue
        if step_up(dose, ctx.catalog) is None:
            continue  # top of the ladder, nothing harder: stay
        evidence = {
            "exercise": slug,
            "sessions": [log.session_id for log in sessions],
            "next_morning_pain": morning.pain,
        }
        out.append(
            rule.reason(
                "progress",
                "step_up",
                evidence,
                (slug,),
                source=sessions[-1].session_id,
                exercise=slug,
                sessions=PROGRESS_SESSIONS,
            )  # fmt: skip
        )
    return out


def _weekly_volume_done(ctx: Context) -> tuple[float, float]:
    """(volume done per week, sessions per week) over the last VOLUME_WEEKS weeks."""
    since = ctx.now - timedelta(weeks=VOLUME_WEEKS)
    recent = [log for log in ctx.logs if since <= log.started_at <= ctx.now]
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


def v1_volume_cap(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    """Progressions (P4, in exercise order) are taken while planned weekly volume stays
    within the cap; each one past it is held. The engine withdraws the held ones."""
    proposed = [r for r in found if r.rule_id == rule.caps]
    if not proposed:
        return []
    doses = {d.exercise_slug: d for d in ctx.doses}
    done_weekly, sessions_weekly = _weekly_volume_done(ctx)
    per_week = max(sessions_weekly, 1.0)
    planned = per_week * sum(volume(d) for d in ctx.doses)
    cap = done_weekly * (1 + ctx.thresholds.volume_growth_max)
    held: list[Reason] = []
    for reason in proposed:
        for slug in reason.exercises:
            dose = doses[slug]
            nxt = step_up(dose, ctx.catalog)
            if nxt is None:
                continue
            extra = per_week * (volume(nxt) - volume(dose))
            if planned + extra <= cap:
                planned += extra
                continue
            evidence = {
                "exercise": slug,
                "weekly_volume_done": rounded(done_weekly),
                "weekly_volume_planned": rounded(planned + extra),
                "cap": rounded(cap),
            }
            held.append(rule.reason("hold", "capped", evidence, (slug,), exercise=slug))
    return held
