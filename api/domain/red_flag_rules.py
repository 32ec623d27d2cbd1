"""Evaluators of RF1-RF3: red flags stand until a professional has seen the person.

Their rows, messages and sources are in `api/domain/rule_table.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from api.domain.evidence import Context, iso
from api.domain.rule import Rule
from api.domain.types import (
    CAUDA_EQUINA_FLAGS,
    REST_PHASES,
    SERIOUS_CAUSE_FLAGS,
    CheckIn,
    Reason,
)

# RF3: "pain at rest" is judged on the latest rest check-in of the last week.
REST_PAIN_LOOKBACK = timedelta(days=7)


def _resolves(resolution: CheckIn, flag: CheckIn) -> bool:
    """A resolution counts for a flag it came after, by the person's clock and by arrival:
    a flag reported offline and synced later is not cleared by an earlier resolution."""
    return resolution.recorded_at > flag.recorded_at and resolution.arrived >= flag.arrived


def _resolutions(ctx: Context) -> list[CheckIn]:
    found = [c for c in ctx.checkins if c.resolves]
    if ctx.history.last_resolution is not None:
        found.append(ctx.history.last_resolution)
    return found


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


def _standing_flag(
    rule: Rule, ctx: Context, kind: str, last_ever: CheckIn | None, shown: frozenset[str]
) -> list[Reason]:
    """The latest check-in with this kind of flag, unless a resolution followed it."""
    flagged = [c for c in ctx.checkins if getattr(c, kind)]
    latest = _latest_unresolved([*flagged, last_ever], _resolutions(ctx))
    if latest is None:
        return []
    evidence: dict[str, Any] = {"checkin_id": latest.id, "recorded_at": iso(latest.recorded_at)}
    if shown:
        evidence["flags"] = sorted(latest.red_flags & shown)
    return [rule.reason(rule.status, "flag", evidence, source=latest.id)]


def rf1_cauda_equina(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    return _standing_flag(
        rule, ctx, "cauda_equina", ctx.history.last_cauda_equina, CAUDA_EQUINA_FLAGS
    )


def rf2_serious_cause(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    return _standing_flag(
        rule, ctx, "serious_cause", ctx.history.last_serious_cause, SERIOUS_CAUSE_FLAGS
    )


def rf3_night_or_rest_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    reasons = _standing_flag(rule, ctx, "night_pain", ctx.history.last_night_pain, frozenset())
    t = ctx.thresholds
    since = ctx.now - REST_PAIN_LOOKBACK
    rest = [c for c in ctx.checkins if c.phase in REST_PHASES and since <= c.recorded_at <= ctx.now]
    if rest and rest[-1].pain >= t.rest_pain_doctor:
        latest = rest[-1]
        evidence = {
            "checkin_id": latest.id,
            "recorded_at": iso(latest.recorded_at),
            "pain": latest.pain,
            "threshold": t.rest_pain_doctor,
        }
        reasons.append(
            rule.reason("see_doctor", "rest_pain", evidence, source=latest.id, pain=latest.pain)
        )
    return reasons
