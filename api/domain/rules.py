"""The rule engine: pain check-ins and workout logs in, explainable advice out.

Pure: no framework, no database, no clock (`now` is an argument). It walks the rule
table (`api/domain/rule_table.py`) in order; every rule that fires is reported with the
data that fired it, and the most severe sets the status. Evaluation reads a bounded
window of history (WINDOW), so its cost does not grow with years of data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from api.domain.evidence import context
from api.domain.ladder import CatalogDose
from api.domain.rule_table import RULES, RULES_BY_ID, RULESET_VERSION
from api.domain.thresholds import DEFAULT_THRESHOLDS, Thresholds
from api.domain.types import (
    ACTION_SEVERITY,
    SEVERITY,
    Action,
    Advice,
    Dose,
    History,
    Reason,
    Status,
)

__all__ = ["RULESET_VERSION", "WINDOW", "evaluate"]

# How much history one evaluation needs: F2's 4 review weeks plus a week of slack;
# F1's 7 + 14 days fit inside. The service loads no more than this.
WINDOW = timedelta(days=35)

# What a reason's status asks of the exercises it names.
_ACTION_OF_STATUS: dict[str, Action] = {
    "progress": "progress",
    "hold": "hold",
    "regress": "regress",
    "see_doctor": "regress",
}


def _actions(reasons: Sequence[Reason], doses: Sequence[Dose], status: Status) -> dict[str, Action]:
    named: dict[str, Action] = {}
    for reason in reasons:
        action = _ACTION_OF_STATUS.get(reason.status)
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
    # A capping rule (V1) only holds some progressions; any other rule above `maintain`
    # stops them all.
    if any(
        RULES_BY_ID[r.rule_id].caps is None and SEVERITY[r.status] > SEVERITY["maintain"]
        for r in reasons
    ):
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
    ctx = context(history, now, WINDOW, thresholds, catalog or {})
    reasons: list[Reason] = []
    for rule in RULES:
        found = rule.evaluate(rule, ctx, tuple(reasons))
        if rule.caps is not None:
            capped = {slug for r in found for slug in r.exercises}
            reasons = [
                r for r in reasons if not (r.rule_id == rule.caps and set(r.exercises) & capped)
            ]
        reasons += found
    status: Status = "maintain"
    if reasons:
        status = max((r.status for r in reasons), key=lambda s: SEVERITY[s])
    reasons.sort(key=lambda r: (-SEVERITY[r.status], r.rule_id, r.exercises))
    return Advice(
        status=status,
        reasons=tuple(reasons),
        exercises=_actions(reasons, ctx.doses, status),
        ruleset_version=RULESET_VERSION,
        evaluated_at=now,
    )
