"""What outcome measures say to the rules (issue 19): STarT Back risk, and which measure is due.

Pure. The measures are scored when stored (api/domain/instruments.py); the rules read
the scores and bands. NICE NG59: consider the STarT Back tool at each new episode, and
clinician-supported care for people at high risk of a poor outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from api.domain.evidence import Context, iso, local_day
from api.domain.rule import Rule
from api.domain.thresholds import SPEC
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
    tests/domain/test_outcome_rules.py), and the score at which limitation is still
    enough to review a plan that is not improving it (`limited_from`, inclusive, on the
    worse side)."""

    instrument: str
    title: str
    better: Literal["lower", "higher"]
    mic_points: float
    mic_percent: float | None
    limited_from: float

    def limited(self, score: float) -> bool:
        if self.better == "lower":
            return score >= self.limited_from
        return score <= self.limited_from


FUNCTION_MEASURES = (
    # ODI above 20 is beyond "minimal disability", its first band (Fairbank 2000); scores
    # go in steps of 2 (or finer with a section left out), so "above 20" is 20.1 and up.
    FunctionMeasure("odi", "Oswestry Disability Index", "lower", 10, 30, 20.1),
    # PSFS 6 or less: 4 points or more below the level before the problem on average, as
    # F2's rest-pain floor is 4 out of 10.
    FunctionMeasure("psfs", "Patient-Specific Functional Scale", "higher", 2, None, 6),
)
# A measure due every 4 weeks may be answered a day early: the pair still spans the window.
PAIR_SLACK = timedelta(days=1)
# The farthest back F2 looks for the earlier answer of a pair: the longest review window
# a clinician may set (`review_weeks`' upper bound) less the slack. The evaluation loads
# what reaches it (api/services/history.py).
PAIR_REACH = timedelta(weeks=SPEC["review_weeks"][1].high) - PAIR_SLACK
# PSFS: 2 points is the change that matters on the mean of 3 or more activities; one or
# two activities compared alone need 3 (Stratford 1995: a single activity's score moves
# more between two ratings of the same ability).
PSFS_FEW_SHARED = 3
PSFS_FEW_SHARED_POINTS = 3.0
# Scores are kept to one decimal (api/domain/instruments.py): so is their change, or a
# PSFS going from 2.6 to 4.6 would gain 1.9999999999999996 and miss its 2 points.
DECIMALS = 1


def improved(
    measure: FunctionMeasure, earlier: float, latest: float, points: float | None = None
) -> bool:
    """A change for the better of at least the measure's minimal important change (or
    `points`), judged as the change from a first answer is (api/domain/instruments.py,
    `change`)."""
    gain = round(earlier - latest if measure.better == "lower" else latest - earlier, DECIMALS)
    if gain >= (measure.mic_points if points is None else points):
        return True
    if measure.mic_percent is None or earlier <= 0:
        return False
    return round(gain / earlier * 100, DECIMALS) >= measure.mic_percent


def _common_means(earlier: Outcome, latest: Outcome) -> tuple[float, float, list[str]] | None:
    """PSFS: the means of the activities rated both times (a person's own activities are
    compared with themselves; None when none is shared)."""
    before = {name.casefold(): score for name, score in earlier.activities}
    shared = [(name, score) for name, score in latest.activities if name.casefold() in before]
    if not shared:
        return None
    first = round(sum(before[n.casefold()] for n, _ in shared) / len(shared), DECIMALS)
    last = round(sum(score for _, score in shared) / len(shared), DECIMALS)
    return first, last, [name for name, _ in shared]


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
        if latest is None:
            continue
        earlier = latest_of(
            [o for o in ctx.history.outcomes if o.recorded_at <= latest.recorded_at - span],
            (measure.instrument,),
        )
        if earlier is None:
            continue
        first, last, shared, points = earlier.score, latest.score, None, None
        what = f"{measure.title} score"
        if measure.instrument == "psfs":
            common = _common_means(earlier, latest)
            if common is None:
                continue  # different activities: no change to judge
            first, last, shared = common
            if len(shared) < PSFS_FEW_SHARED:
                points = PSFS_FEW_SHARED_POINTS
            if len(shared) < len(latest.activities):
                what += " on the activities you rated both times"
        if not measure.limited(last) or improved(measure, first, last, points):
            continue
        evidence: dict[str, Any] = {
            "instrument": measure.instrument,
            "weeks": weeks,
            "earlier_outcome_id": earlier.id,
            "earlier_recorded_at": iso(earlier.recorded_at),
            "earlier_score": first,
            "latest_outcome_id": latest.id,
            "latest_recorded_at": iso(latest.recorded_at),
            "latest_score": last,
            "days_apart": (latest.recorded_at - earlier.recorded_at).days,
        }
        if shared is not None:
            evidence["activities"] = shared
        if risk:
            evidence["risk_factors"] = list(risk)
        values: dict[str, Any] = {
            "measure": what,
            # The person's own calendar day, as every day a message names.
            "since": local_day(earlier.recorded_at, ctx.tz).isoformat(),
            "earlier": f"{first:g}",
            "latest": f"{last:g}",
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
