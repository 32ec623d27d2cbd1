"""What outcome measures say to the rules (issue 19): STarT Back risk, and which measure is due.

Pure. The measures are scored when stored (api/domain/instruments.py); the rules read
the scores and bands. NICE NG59: consider the STarT Back tool at each new episode, and
clinician-supported care for people at high risk of a poor outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

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
