"""Evaluators of P4, P0 and V1: when a step up is earned, allowed and capped.

Their rows, messages and sources are in `api/domain/rule_table.py`; the pain rules they
build on (P1-P3) are in `api/domain/session_rules.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from statistics import fmean
from typing import Any

from api.domain.evidence import Context, iso, rounded
from api.domain.ladder import left_out, step_up, volume
from api.domain.rule import Rule
from api.domain.session_rules import session_of
from api.domain.types import REST_PHASES, CheckIn, Dose, Reason, SessionLog

# P4 (ACSM 2009): the last 2 sessions of an exercise must both have gone well; a
# left-out exercise comes back after 2 sessions without P1-P3.
PROGRESS_SESSIONS = 2
# V1 (Nielsen 2014): weekly volume is compared with the last 2 weeks.
VOLUME_WEEKS = 2
# P0: progress needs fresh evidence that pain is settled (ruleset v2, "fail safe").
FRESH_EVIDENCE = timedelta(hours=72)
GATE_LOOKBACK = timedelta(days=7)
GATE_RISE_POINTS = 2  # latest rest pain this far above the lowest of the last 7 days
GATE_TREND_DAYS = 3  # the last 3 days' mean against the 3 days before...
GATE_TREND_POINTS = 1  # ...up by this much


# --- progression (P4), its gate (P0) and its cap (V1) ------------------------------------


def _hurt_in_session(ctx: Context) -> dict[str, list[str | None]]:
    """Per logged session, the exercises (None: not named) of the check-ins during or
    after it with pain above the safe zone: worked out once per evaluation."""

    def work() -> dict[str, list[str | None]]:
        safe = ctx.thresholds.during_pain_safe_max
        logs = {x.session_id: x for x in ctx.logs}
        hurt: dict[str, list[str | None]] = {}
        for c in ctx.checkins:
            if c.phase not in ("during", "after") or c.pain <= safe:
                continue
            owner = session_of(c, ctx, logs)
            if owner is not None:
                hurt.setdefault(owner.session_id, []).append(c.exercise_slug)
        return hurt

    return ctx.once("hurt_in_session", work)


def _session_pain_settled(log: SessionLog, slug: str | None, ctx: Context) -> bool:
    """No pain above the safe zone reported during or right after this session (for one
    exercise, or for any when `slug` is None), and no rise the next morning. A log filled
    from a recording reported no pain at all: silence is not improvement."""
    if log.imported:
        return False
    safe = ctx.thresholds.during_pain_safe_max
    if log.pain_after is not None and log.pain_after > safe:
        return False
    for e in log.entries:
        if (slug is None or e.exercise_slug == slug) and (e.pain_during or 0) > safe:
            return False
    for exercise in _hurt_in_session(ctx).get(log.session_id, ()):
        if slug is None or exercise in (None, slug):
            return False
    before, morning = ctx.morning_after(log)
    return not (morning is not None and before is not None and morning.pain > before.pain)


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
    return _session_pain_settled(log, slug, ctx)


def _settled_next_morning(log: SessionLog, ctx: Context) -> CheckIn | None:
    """The next-morning reading after `log`, if it shows the pain settled."""
    before, morning = ctx.morning_after(log)
    if morning is None:
        return None
    settled_at = before.pain if before is not None else ctx.thresholds.during_pain_safe_max
    return morning if morning.pain <= settled_at else None


def _step_up_reason(
    rule: Rule, ctx: Context, slug: str, sessions: Sequence[SessionLog], back: bool
) -> Reason | None:
    morning = _settled_next_morning(sessions[-1], ctx)
    if morning is None:
        return None  # pain must be known to have settled (Silbernagel 2007)
    evidence = {
        "exercise": slug,
        "sessions": [log.session_id for log in sessions],
        "next_morning_pain": morning.pain,
    }
    return rule.reason(
        "progress", "back" if back else "step_up", evidence, (slug,),
        source=sessions[-1].session_id, exercise=ctx.name(slug), sessions=len(sessions),
    )  # fmt: skip


def p4_progress(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    """Exercises whose last two sessions at the current dose went comfortably, and
    left-out exercises after two sessions without pain trouble: one step up each.

    Only when no rule before it in the table found anything (docs/clinical.md: "no other rule
    above maintain"); P0 and V1 then gate and cap what it proposes.
    """
    if found:
        return []
    out: list[Reason] = []
    for dose in ctx.doses:
        slug = dose.exercise_slug
        if step_up(dose, ctx.catalog) is None:
            continue  # top of the ladder, nothing harder: stay
        if left_out(dose):
            since = ctx.history.left_out_since.get(slug)
            if since is None:
                continue
            later = [log for log in ctx.logs if log.started_at > since][-PROGRESS_SESSIONS:]
            back = len(later) == PROGRESS_SESSIONS and all(
                _session_pain_settled(log, None, ctx) for log in later
            )
            reason = _step_up_reason(rule, ctx, slug, later, back=True) if back else None
        else:
            sessions = [
                log
                for log in ctx.logs
                if any(e.exercise_slug == slug and not e.skipped for e in log.entries)
            ][-PROGRESS_SESSIONS:]
            well = len(sessions) == PROGRESS_SESSIONS and all(
                _went_well(log, slug, dose, ctx) for log in sessions
            )
            reason = _step_up_reason(rule, ctx, slug, sessions, back=False) if well else None
        if reason is not None:
            out.append(reason)
    return out


def stale(ctx: Context) -> bool:
    """No rest-pain or `before` check-in in the last 72 h: P0's first condition, and the
    advice's `stale`."""
    return not any(
        (c.phase in REST_PHASES or c.phase == "before")
        and c.recorded_at >= ctx.now - FRESH_EVIDENCE
        for c in ctx.checkins
    )


def gate_failures(ctx: Context) -> list[tuple[str, dict[str, Any]]]:
    """P0's three conditions that fail now, as (message key, evidence)."""
    failures: list[tuple[str, dict[str, Any]]] = []
    if stale(ctx):
        latest = ctx.latest_rest()
        failures.append(
            ("stale", {"latest_rest_checkin": iso(latest.recorded_at) if latest else None})
        )
    # Rising pain is judged back from the latest rest-pain check-in, not from now: days
    # without data never lift the hold (ruleset v2, "silence is not improvement").
    latest = ctx.latest_rest()
    week = (
        [c for c in ctx.rest if c.recorded_at >= latest.recorded_at - GATE_LOOKBACK]
        if latest is not None
        else []
    )
    if week:
        latest_rest, lowest = week[-1], min(c.pain for c in week)
        if latest_rest.pain - lowest >= GATE_RISE_POINTS:
            failures.append(
                (
                    "rising",
                    {
                        "latest_rest_pain": latest_rest.pain,
                        "lowest_7_days": lowest,
                        "rise": latest_rest.pain - lowest,
                    },
                )
            )
    if ctx.daily:
        end = max(ctx.daily)
        last = [end - timedelta(days=i) for i in range(GATE_TREND_DAYS)]
        before = [end - timedelta(days=GATE_TREND_DAYS + i) for i in range(GATE_TREND_DAYS)]
        recent = [ctx.daily[d] for d in last if d in ctx.daily]
        earlier = [ctx.daily[d] for d in before if d in ctx.daily]
        if recent and earlier and fmean(recent) - fmean(earlier) >= GATE_TREND_POINTS:
            failures.append(
                (
                    "trend",
                    {
                        "mean_last_3_days": rounded(fmean(recent)),
                        "mean_3_days_before": rounded(fmean(earlier)),
                    },
                )  # fmt: skip
            )
    return failures


def p0_progression_gate(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    """Withholds every step up P4 proposed unless the evidence is fresh and pain settled."""
    proposed = sorted({s for r in found if r.rule_id == rule.caps for s in r.exercises})
    if not proposed:
        return []
    failures = gate_failures(ctx)
    if not failures:
        return []
    evidence: dict[str, Any] = {"failed": [key for key, _ in failures]}
    for _, more in failures:
        evidence.update(more)
    message = failures[0][0]
    return [
        rule.reason(
            "hold",
            message,
            evidence,
            tuple(proposed),
            names=ctx.names(proposed),
            **{k: v for k, v in evidence.items() if k != "failed"},
        )  # fmt: skip
    ]


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
            held.append(rule.reason("hold", "capped", evidence, (slug,), exercise=ctx.name(slug)))
    return held


# M0's evidence counts the sessions of the last week (domain/horizon.py: DURATIONS).
STEADY_LOOKBACK = timedelta(days=7)


def m0_nothing_to_change(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    """When no rule above found anything: say so, with what it was judged on, so that a
    `maintain` has a reason like every other status."""
    if found:
        return []
    latest = ctx.latest_rest()
    week_ago = ctx.now - STEADY_LOOKBACK
    evidence = {
        "latest_rest_pain": latest.pain if latest is not None else None,
        "sessions_last_7_days": sum(1 for log in ctx.logs if log.ended_at > week_ago),
    }
    # Silence is not improvement: with nothing recent to judge by, ask for it.
    quiet = latest is None or stale(ctx)
    return [rule.reason("maintain", "no_news" if quiet else "steady", evidence)]
