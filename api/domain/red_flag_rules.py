"""Evaluators of RF1-RF4: signs that need a professional, and what clears them.

Their rows, messages and sources are in `api/domain/rule_table.py`. Ruleset v2: an
emergency (RF1) or a possible serious cause (RF2, RF2b) is cleared only by an
assessment (who assessed the person, and when: at or after the flag) or by a linked
clinician, each red-flag group on its own; RF3 and RF4 stand until later data shows
their trigger has gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from api.domain.evidence import Context, iso
from api.domain.rule import Rule
from api.domain.types import (
    CANCER_FLAGS,
    CAUDA_EQUINA_FLAGS,
    INFECTION_OR_FRACTURE_FLAGS,
    NIGHT_PAIN_FLAG,
    REST_PHASES,
    CheckIn,
    Reason,
)

# RF4: "new compared with the 14 days before".
LEG_SYMPTOMS_LOOKBACK = timedelta(days=14)


def _assessments(ctx: Context) -> list[CheckIn]:
    found = [c for c in ctx.checkins if c.assessment]
    if ctx.history.last_assessment is not None:
        found.append(ctx.history.last_assessment)
    return found


def assessed_after(assessment: CheckIn, flag: CheckIn) -> bool:
    """An assessment clears a flag it followed: assessed at or after the flag, and
    recorded after it by the person's clock and by arrival (a flag reported offline and
    synced later is not cleared by an earlier record)."""
    return (
        assessment.assessed_at is not None
        and assessment.assessed_at >= flag.recorded_at
        and assessment.recorded_at > flag.recorded_at
        and assessment.arrived >= flag.arrived
    )


def _latest(candidates: Iterable[CheckIn | None]) -> CheckIn | None:
    flagged = [c for c in candidates if c is not None]
    return max(flagged, key=lambda c: (c.recorded_at, c.id)) if flagged else None


def standing_flag(ctx: Context, kind: str, last_ever: CheckIn | None) -> CheckIn | None:
    """The latest check-in with this group of flags, unless an assessment followed it."""
    latest = _latest([*(c for c in ctx.checkins if getattr(c, kind)), last_ever])
    if latest is None or any(assessed_after(a, latest) for a in _assessments(ctx)):
        return None
    return latest


def _flag_reason(
    rule: Rule, ctx: Context, kind: str, last_ever: CheckIn | None, shown: frozenset[str]
) -> list[Reason]:
    latest = standing_flag(ctx, kind, last_ever)
    if latest is None:
        return []
    evidence: dict[str, Any] = {
        "checkin_id": latest.id,
        "recorded_at": iso(latest.recorded_at),
        "flags": sorted(latest.red_flags & shown),
    }
    return [rule.reason(rule.status, "flag", evidence, source=latest.id)]


def rf1_cauda_equina(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    return _flag_reason(
        rule, ctx, "cauda_equina", ctx.history.last_cauda_equina, CAUDA_EQUINA_FLAGS
    )


def rf2_infection_or_fracture(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    return _flag_reason(
        rule,
        ctx,
        "infection_or_fracture",
        ctx.history.last_infection_or_fracture,
        INFECTION_OR_FRACTURE_FLAGS,
    )


def rf2b_cancer_concern(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    return _flag_reason(rule, ctx, "cancer_concern", ctx.history.last_cancer_concern, CANCER_FLAGS)


def _night_pain_cleared(ctx: Context, flag: CheckIn) -> bool:
    """A later rest-pain check-in below the threshold that answers "no" to night pain,
    or an assessment after the flag."""
    t = ctx.thresholds
    if any(assessed_after(a, flag) for a in _assessments(ctx)):
        return True
    denials = [*ctx.rest, *filter(None, [ctx.history.last_night_pain_denial])]
    return any(
        c.phase in REST_PHASES
        and c.recorded_at > flag.recorded_at
        and c.pain < t.rest_pain_doctor
        and NIGHT_PAIN_FLAG in c.denied
        for c in denials
    )


def rf3_night_or_rest_pain(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    reasons: list[Reason] = []
    flag = _latest([*(c for c in ctx.checkins if c.night_pain), ctx.history.last_night_pain])
    if flag is not None and not _night_pain_cleared(ctx, flag):
        shown = {"checkin_id": flag.id, "recorded_at": iso(flag.recorded_at)}
        reasons.append(rule.reason("see_doctor", "flag", shown, source=flag.id))
    # Severe pain at rest stands until a later rest-pain check-in is below the threshold.
    latest = ctx.latest_rest()
    threshold = ctx.thresholds.rest_pain_doctor
    if latest is not None and latest.pain >= threshold:
        evidence: dict[str, Any] = {
            "checkin_id": latest.id,
            "recorded_at": iso(latest.recorded_at),
            "pain": latest.pain,
            "threshold": threshold,
        }
        reasons.append(
            rule.reason(
                "see_doctor",
                "rest_pain",
                evidence,
                source=latest.id,
                pain=latest.pain,
                threshold=f"{threshold:g}",
            )  # fmt: skip
        )
    return reasons


def rf4_leg_symptoms(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    """Pain below the knee or leg numbness, new against the 14 days before or spreading
    (a leg symptom or place not reported in those 14 days); stands until a later
    check-in answers "no" to pain below the knee with no leg symptom."""
    onset: tuple[CheckIn, frozenset[str]] | None = None
    reported: list[tuple[CheckIn, frozenset[str]]] = []
    for c in ctx.checkins:
        if c.legs_clear:
            # A "no" ends what came before: symptoms back after it are new again.
            onset = None
            reported = []
            continue
        symptoms = c.leg_symptoms
        if not symptoms:
            continue
        since = c.recorded_at - LEG_SYMPTOMS_LOOKBACK
        before = {s for earlier, seen in reported if earlier.recorded_at >= since for s in seen}
        reported.append((c, symptoms))
        new = symptoms - before
        if new:
            onset = (c, frozenset(new))
    if onset is None:
        return []
    c, new = onset
    evidence = {"checkin_id": c.id, "recorded_at": iso(c.recorded_at), "new": sorted(new)}
    spreading = bool(c.leg_symptoms - new)
    return [rule.reason("hold", "spreading" if spreading else "new", evidence, source=c.id)]
