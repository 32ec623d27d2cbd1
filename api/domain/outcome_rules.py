"""What outcome measures say to the rules (issue 19): STarT Back risk, and which measure is due.

Pure. The measures are scored when stored (api/domain/instruments.py); the rules read
the scores and bands. NICE NG59: consider the STarT Back tool at each new episode, and
clinician-supported care for people at high risk of a poor outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from api.domain.evidence import Context, iso
from api.domain.rule import Rule
from api.domain.types import MeasureDue, Outcome, Reason

STARTBACK = "startback"
# STarT Back's own band for "high risk" (Hill 2008; Keele's scoring).
HIGH_RISK = "high"
# When each measure is asked again (seed_data/instruments/: `due_every_days`, kept equal by
# tests/domain/test_outcome_rules.py): pain weekly, function or disability every 4 weeks
# (the programmes are judged over weeks; docs/clinical.md, "not improving" after about 4
# weeks). STarT Back once, at the start.
WEEKLY_PAIN = ("nrs-weekly",)
FUNCTION = ("odi", "psfs")
SCHEDULE: tuple[tuple[tuple[str, ...], timedelta | None], ...] = (
    ((STARTBACK,), None),
    (WEEKLY_PAIN, timedelta(days=7)),
    (FUNCTION, timedelta(days=28)),
)


def latest_of(outcomes: Sequence[Outcome], names: Sequence[str]) -> Outcome | None:
    found = [o for o in outcomes if o.instrument in names]
    return max(found, key=lambda o: (o.recorded_at, o.id), default=None)


def measures_due(outcomes: Sequence[Outcome]) -> tuple[MeasureDue, ...]:
    """Each scheduled measure not answered yet, or when it is next due. Time-invariant
    (a moment, not a flag): nothing about it changes until an answer is stored."""
    due = []
    for names, every in SCHEDULE:
        latest = latest_of(outcomes, names)
        if latest is None:
            due.append(MeasureDue(names, None))
        elif every is not None:
            due.append(MeasureDue(names, latest.recorded_at + every))
    return tuple(due)


@dataclass(frozen=True)
class FunctionMeasure:
    """How F2 reads a function or disability measure: which way is better, the change that
    matters (the instrument's `minimal_important_change`, kept equal to the YAML by
    tests/domain/test_outcome_rules.py), and when a score still shows enough limitation to
    review a plan that is not improving it."""

    instrument: str
    title: str
    better: Literal["lower", "higher"]
    mic_points: float
    mic_percent: float | None
    limited: Callable[[float], bool]
    limited_text: str


FUNCTION_MEASURES = (
    # ODI above 20 is beyond "minimal disability", its first band (Fairbank 2000).
    FunctionMeasure("odi", "Oswestry Disability Index", "lower", 10, 30,
                    lambda score: score > 20, "above 20 (beyond minimal disability)"),
    # PSFS 6 or less: 4 points or more below the level before the problem on average, as
    # F2's rest-pain floor is 4 out of 10.
    FunctionMeasure("psfs", "Patient-Specific Functional Scale", "higher", 2, None,
                    lambda score: score <= 6, "6 or less"),
)  # fmt: skip
# A measure due every 4 weeks may be answered a day early: the pair still spans the window.
PAIR_SLACK = timedelta(days=1)


def improved(measure: FunctionMeasure, earlier: float, latest: float) -> bool:
    """A change for the better of at least the measure's minimal important change."""
    gain = earlier - latest if measure.better == "lower" else latest - earlier
    if gain >= measure.mic_points:
        return True
    return (
        measure.mic_percent is not None
        and earlier > 0
        and (gain >= earlier * measure.mic_percent / 100)
    )


def function_not_improving(
    rule: Rule, ctx: Context, weeks: int, risk: Sequence[str]
) -> list[Reason]:
    """F2 on outcome measures: the latest ODI or PSFS against the latest answer of the
    same measure at least `weeks` before it, while the latest still shows limitation. It
    stands until a later answer shows the improvement (silence is not improvement)."""
    span = timedelta(weeks=weeks) - PAIR_SLACK
    reasons = []
    for measure in FUNCTION_MEASURES:
        latest = latest_of(ctx.history.outcomes, (measure.instrument,))
        if latest is None or not measure.limited(latest.score):
            continue
        earlier = latest_of(
            [o for o in ctx.history.outcomes if o.recorded_at <= latest.recorded_at - span],
            (measure.instrument,),
        )
        if earlier is None or improved(measure, earlier.score, latest.score):
            continue
        evidence: dict[str, Any] = {
            "instrument": measure.instrument,
            "weeks": weeks,
            "earlier_outcome_id": earlier.id,
            "earlier_recorded_at": iso(earlier.recorded_at),
            "earlier_score": earlier.score,
            "latest_outcome_id": latest.id,
            "latest_recorded_at": iso(latest.recorded_at),
            "latest_score": latest.score,
        }
        if risk:
            evidence["risk_factors"] = list(risk)
        values: dict[str, Any] = {
            "measure": measure.title,
            "weeks": weeks,
            "earlier": f"{earlier.score:g}",
            "latest": f"{latest.score:g}",
        }
        reasons.append(rule.reason("see_doctor", "function", evidence, source=latest.id, **values))
    return reasons


def sb1_startback_high_risk(rule: Rule, ctx: Context, found: Sequence[Reason]) -> list[Reason]:
    """The latest STarT Back ever is high risk: suggest clinician-supported care. It
    stands until a later STarT Back is not high risk."""
    latest = latest_of(ctx.history.outcomes, (STARTBACK,))
    if latest is None or latest.band != HIGH_RISK:
        return []
    evidence = {
        "outcome_id": latest.id,
        "recorded_at": iso(latest.recorded_at),
        "score": latest.score,
        "band": latest.band,
    }
    return [rule.reason("maintain", "high_risk", evidence, source=latest.id)]
