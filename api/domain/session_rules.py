"""Evaluators of P0-P4 and V1: pain during, right after and the morning after exercise,
and when a step up is allowed.

Their rows, messages and sources are in `api/domain/rule_table.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from api.domain.evidence import Before, Context, done_exercises, iso, morning_after, rounded
from api.domain.ladder import left_out, step_down, step_up, volume
from api.domain.rule import Rule
from api.domain.types import REST_PHASES, CheckIn, Dose, Reason, SessionLog

# P4 (ACSM 2009): the last 2 sessions of an exercise must both have gone well; a
# left-out exercise comes back after 2 sessions without P1-P3.
PROGRESS_SESSIONS = 2
# V1 (Nielsen 2014): weekly volume is compared with the last 2 weeks.
VOLUME_WEEKS = 2
# P1/P3: pain reported within this long after a session is that session's pain.
AFTER_WINDOW = timedelta(hours=2)
# P0: progress needs fresh evidence that pain is settled (ruleset v2, "fail safe").
FRESH_EVIDENCE = timedelta(hours=72)
GATE_LOOKBACK = timedelta(days=7)
GATE_RISE_POINTS = 2  # latest rest pain this far above the lowest of the last 7 days
GATE_TREND_DAYS = 3  # the last 3 days' mean against the 3 days before...
GATE_TREND_POINTS = 1  # ...up by this much


# --- pain during and right after exercise (P1, and P3's session half) -------------------


@dataclass(frozen=True)
class Occasion:
    """One exercise's latest session pain: a session (its log and the check-ins tagged
    with it or made within 2 h after it) or a lone check-in."""

    at: datetime
    pain: int
    key: str  # the session id, or the lone check-in's id
    kind: str  # "during" or "after"
    reported: str = ""  # the exercise the pain was reported for, when not this one


def _session_of(c: CheckIn, ctx: Context, logs: dict[str, SessionLog]) -> SessionLog | None:
    if c.session_id is not None:
        return logs.get(c.session_id)
    if c.phase != "after":
        return None
    # An untagged `after` check-in belongs to the session that ended in the 2 h before it.
    ended = [
        log for log in ctx.logs if log.ended_at <= c.recorded_at <= log.ended_at + AFTER_WINDOW
    ]
    return ended[-1] if ended else None


def latest_session_pain(ctx: Context) -> dict[str, Occasion]:
    """Per exercise of the routine, its latest occasion with the highest pain in it.

    A check-in that names no exercise counts for every exercise of its session, or for
    the whole routine when it belongs to no logged session; so does pain named for an
    exercise outside the routine (the warm-up, or one done anyway). Pain that came
    before an exercise left the routine (an easier variation took its place) or was left
    out of sessions has been acted on, and is forgotten.
    """
    logs = {log.session_id: log for log in ctx.logs}
    routine = [d.exercise_slug for d in ctx.doses]
    in_routine = set(routine)
    changed = ctx.history.dose_changed_at
    occasions: dict[str, tuple[datetime, dict[str, tuple[int, str, str]]]] = {}

    def add(key: str, at: datetime, slugs: Iterable[str], pain: int, kind: str,
            session: SessionLog | None) -> None:  # fmt: skip
        fallback = [s for s in done_exercises(session) if s in in_routine] if session else []
        targets: list[tuple[str, str]] = []  # (exercise it counts for, reported for)
        for slug in slugs:
            if slug in in_routine:
                targets.append((slug, slug))
            elif slug in changed and at <= changed[slug]:
                continue  # it left the routine after this pain: acted on
            else:
                targets += [(s, slug) for s in fallback or routine]
        when, pains = occasions.get(key, (at, {}))
        for slug, reported in targets:
            seen = pains.get(slug)
            if seen is None or (pain, kind) > seen[:2]:
                pains[slug] = (pain, kind, reported)
        occasions[key] = (max(when, at), pains)

    for log in ctx.logs:
        for entry in log.entries:
            if entry.pain_during is not None and not entry.skipped:
                add(log.session_id, log.ended_at, [entry.exercise_slug], entry.pain_during,
                    "during", log)  # fmt: skip
        if log.pain_after is not None:
            add(log.session_id, log.ended_at, done_exercises(log), log.pain_after, "after", log)
    for c in ctx.checkins:
        if c.phase not in ("during", "after"):
            continue
        owner = _session_of(c, ctx, logs)
        slugs: Sequence[str]
        if c.exercise_slug:
            slugs = [c.exercise_slug]
        elif owner is not None:
            slugs = done_exercises(owner)
        else:
            slugs = routine
        key = owner.session_id if owner is not None else (c.session_id or c.id)
        add(key, c.recorded_at, slugs, c.pain, c.phase, owner)

    out_since = ctx.history.left_out_since
    latest: dict[str, Occasion] = {}
    for key, (at, pains) in occasions.items():
        for slug, (pain, kind, reported) in pains.items():
            if slug in out_since and at <= out_since[slug]:
                continue
            seen = latest.get(slug)
            if seen is None or (at, pain, key) > (seen.at, seen.pain, seen.key):
                latest[slug] = Occasion(at, pain, key, kind, reported)
    return latest


def eased(ctx: Context, slugs: Iterable[str], trigger: datetime) -> str:
    """What a regress does to these exercises, said truthfully. A dose stored after the
    trigger has had its step ("eased back"); otherwise the step is the ladder's next one
    down: a lower dose, the easier variation, or out of sessions for now. One already
    left out stays out."""
    doses = {d.exercise_slug: d for d in ctx.doses}
    changed = ctx.history.dose_changed_at
    said: dict[str, list[str]] = {"eased": [], "out": [], "stays": [], "moves": []}
    easier: list[str] = []
    for slug in sorted(set(slugs) & set(doses)):
        dose = doses[slug]
        if left_out(dose):
            said["stays"].append(slug)
            continue
        if slug in changed and changed[slug] >= trigger:
            said["eased"].append(slug)
            continue
        nxt = step_down(dose, ctx.catalog)
        cleared = ctx.history.cleared
        if nxt is not None and cleared is not None and nxt.exercise_slug not in cleared | {slug}:
            nxt = step_down(dose, {slug: ctx.catalog[slug]})  # as decisions.plan_steps does
        if nxt is None or nxt.exercise_slug == slug and not left_out(nxt):
            said["eased"].append(slug)
        elif left_out(nxt):
            said["out"].append(slug)
        else:
            said["moves"].append(slug)
            easier.append(nxt.exercise_slug)

    def verb(items: list[str], one: str, many: str) -> str:
        return one if len(items) == 1 else many

    text = []
    if said["eased"]:
        e = said["eased"]
        text.append(
            f"{ctx.names(e)} {verb(e, 'is', 'are')} eased back a step for your next session."
        )
    if said["moves"]:
        m = said["moves"]
        text.append(
            f"{ctx.names(m)} {verb(m, 'is', 'are')} replaced by the easier {ctx.names(easier)} "
            "for now."
        )
    if said["out"]:
        o = said["out"]
        text.append(
            f"{ctx.names(o)} {verb(o, 'is', 'are')} already at the easiest step, so "
            f"{verb(o, 'it is', 'they are')} left out of your sessions for now; "
            f"{verb(o, 'it comes', 'they come')} back after 2 sessions without pain trouble."
        )
    if said["stays"]:
        st = said["stays"]
        text.append(f"{ctx.names(st)} {verb(st, 'stays', 'stay')} out of your sessions for now.")
    return " ".join(text)


def _session_pain_reasons(rule: Rule, ctx: Context, low: float, high: float | None) -> list[Reason]:
    """A reason per occasion for the exercises whose latest pain lies above `low` (and
    up to `high`)."""
    grouped: dict[tuple[str, str, int, datetime], list[str]] = {}
    reported: dict[tuple[str, str, int, datetime], set[str]] = {}
    for slug, o in sorted(latest_session_pain(ctx).items()):
        if o.pain > low and (high is None or o.pain <= high):
            group = (o.key, o.kind, o.pain, o.at)
            grouped.setdefault(group, []).append(slug)
            # The message names what the pain was reported for (the warm-up, say), not
            # the exercises it is counted for.
            reported.setdefault(group, set()).add(o.reported or slug)
    in_routine = {d.exercise_slug for d in ctx.doses}
    reasons = []
    for (key, kind, pain, at), slugs in sorted(grouped.items()):
        named = tuple(s for s in slugs if s in in_routine)
        evidence = {
            "exercises": slugs,
            f"pain_{kind}": pain,
            "at": iso(at),
            "source": key,
        }
        reasons.append(
            rule.reason(
                rule.statuses[0],
                kind,
                evidence,
                named,
                source=key,
                names=ctx.names(reported[(key, kind, pain, at)]),
                pain=pain,
                limit=f"{low:g}",
                outcome=eased(ctx, named, at),
            )  # fmt: skip
        )
    return reasons


def p1_session_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    return _session_pain_reasons(rule, ctx, ctx.thresholds.during_pain_max, None)


# --- the morning after (P2, and P3's next-morning half) ----------------------------------


def _latest_morning(ctx: Context) -> tuple[SessionLog, Before | None, CheckIn] | None:
    """The latest session with a next-morning reading: (log, before, next morning)."""
    for log in reversed(ctx.logs):
        before, morning = morning_after(log, ctx.checkins)
        if morning is not None:
            return log, before, morning
    return None


def _morning_evidence(
    log: SessionLog, before: Before | None, morning: CheckIn
) -> tuple[dict[str, Any], float | None]:
    rise = morning.pain - before.pain if before is not None else None
    evidence: dict[str, Any] = {
        "session_id": log.session_id,
        "next_morning_pain": morning.pain,
        "before_pain": rounded(before.pain) if before is not None else None,
        "before_from": None
        if before is None
        else ("before_checkin" if before.checkin is not None else "median_rest_7_days"),
        "rise": rounded(rise) if rise is not None else None,
    }
    return evidence, rise


def p2_next_morning_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    latest = _latest_morning(ctx)
    if latest is None:
        return []
    log, before, morning = latest
    evidence, rise = _morning_evidence(log, before, morning)
    t = ctx.thresholds
    named = tuple(s for s in done_exercises(log) if s in {d.exercise_slug for d in ctx.doses})
    values = {
        "pain": morning.pain,
        "outcome": eased(ctx, named, morning.recorded_at),
        "limit": f"{t.next_morning_pain_max:g}",
    }
    if rise is not None and rise >= t.next_morning_rise_regress:
        before_pain = rounded(before.pain) if before is not None else 0
        return [
            rule.reason(
                "regress",
                "rise",
                evidence,
                named,
                source=log.session_id,
                rise=f"{rise:g}",
                before=f"{before_pain:g}",
                **values,
            )  # fmt: skip
        ]
    if morning.pain > t.next_morning_pain_max:
        return [rule.reason("regress", "high", evidence, named, source=log.session_id, **values)]
    return []


def p3_acceptable_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    t = ctx.thresholds
    reasons = []
    latest = _latest_morning(ctx)
    if latest is not None and not any(r.rule_id == "P2" for r in found):
        log, before, morning = latest
        evidence, rise = _morning_evidence(log, before, morning)
        if rise is not None and rise >= 1:
            named = tuple(
                s for s in done_exercises(log) if s in {d.exercise_slug for d in ctx.doses}
            )
            reasons.append(
                rule.reason(
                    "hold",
                    "morning",
                    evidence,
                    named,
                    source=log.session_id,
                    names=ctx.names(named) or "your exercises",
                )  # fmt: skip
            )
    return reasons + _session_pain_reasons(rule, ctx, t.during_pain_safe_max, t.during_pain_max)


# --- progression (P4), its gate (P0) and its cap (V1) ------------------------------------


def _session_pain_settled(log: SessionLog, slug: str | None, ctx: Context) -> bool:
    """No pain above the safe zone reported during or right after this session (for one
    exercise, or for any when `slug` is None), and no rise the next morning."""
    safe = ctx.thresholds.during_pain_safe_max
    if log.pain_after is not None and log.pain_after > safe:
        return False
    for e in log.entries:
        if (slug is None or e.exercise_slug == slug) and (e.pain_during or 0) > safe:
            return False
    logs = {x.session_id: x for x in ctx.logs}
    for c in ctx.checkins:
        if c.phase not in ("during", "after") or c.pain <= safe:
            continue
        if c.exercise_slug not in (None, slug) and slug is not None:
            continue
        owner = _session_of(c, ctx, logs)
        if owner is not None and owner.session_id == log.session_id:
            return False
    before, morning = morning_after(log, ctx.checkins)
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
    before, morning = morning_after(log, ctx.checkins)
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

    Only when no rule before it in the table found anything (CLINICAL.md: "no other rule
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


def gate_failures(ctx: Context) -> list[tuple[str, dict[str, Any]]]:
    """P0's three conditions that fail now, as (message key, evidence)."""
    failures: list[tuple[str, dict[str, Any]]] = []
    fresh = [
        c
        for c in ctx.checkins
        if (c.phase in REST_PHASES or c.phase == "before")
        and c.recorded_at >= ctx.now - FRESH_EVIDENCE
    ]
    if not fresh:
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
