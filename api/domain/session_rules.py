"""Evaluators of P1-P3: pain during, right after and the morning after exercise.

P4, its gate P0 and its cap V1 are in `api/domain/progression_rules.py`.

Their rows, messages and sources are in `api/domain/rule_table.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from api.domain.evidence import Before, Context, done_exercises, iso, rounded
from api.domain.ladder import left_out, step_down
from api.domain.rule import Rule
from api.domain.types import CheckIn, Reason, SessionLog

# P1/P3: pain reported within this long after a session is that session's pain.
AFTER_WINDOW = timedelta(hours=2)


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


def session_of(c: CheckIn, ctx: Context, logs: dict[str, SessionLog]) -> SessionLog | None:
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
        fallback: list[str] | None = None  # worked out only when needed
        targets: list[tuple[str, str]] = []  # (exercise it counts for, reported for)
        for slug in slugs:
            if slug in in_routine:
                targets.append((slug, slug))
            elif slug in changed and at <= changed[slug]:
                continue  # it left the routine after this pain: acted on
            else:
                if fallback is None:
                    done = done_exercises(session) if session else ()
                    fallback = [s for s in done if s in in_routine]
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
        owner = session_of(c, ctx, logs)
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
    pains = ctx.once("latest_session_pain", lambda: latest_session_pain(ctx))
    for slug, o in sorted(pains.items()):
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
        morning = ctx.next_morning(log)
        if morning is not None:
            return log, ctx.before(log), morning
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
