"""The rule engine: pain check-ins and workout logs in, explainable advice out.

Pure: no framework, no database, no clock (`now` is an argument). It walks the rule
table (`api/domain/rule_table.py`) in order; every rule that fires is reported with the
data that fired it, and the most severe sets the status. Evaluation reads a bounded
window of history (WINDOW), so its cost does not grow with years of data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta

from api.domain.evidence import Context, context, local_day, next_morning
from api.domain.ladder import CatalogDose
from api.domain.outcome_rules import measures_due
from api.domain.progression_rules import stale
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

# How much history one evaluation needs, back from the latest data (evidence.anchor):
# F1's 7 + 14 days and a flare of up to 3 weeks; F2's 4 review weeks and 2 of slack.
# The service loads no more than this.
WINDOW = timedelta(days=42)
# A rest-pain check-in is due a day after the last one, and the morning after a session.
CHECKIN_EVERY = timedelta(days=1)
MORNING = time(8)

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


def next_checkin_due(ctx: Context) -> datetime:
    """A day after the latest rest-pain check-in, or 08:00 local the morning after a
    session logged since it without a next-morning reading; now when nothing is known."""
    latest = ctx.latest_rest()
    due = ctx.now if latest is None else latest.recorded_at + CHECKIN_EVERY
    if ctx.logs:
        log = ctx.logs[-1]
        if (latest is None or log.ended_at > latest.recorded_at) and next_morning(
            log, ctx.checkins
        ) is None:
            day = local_day(log.ended_at, ctx.tz)
            morning = datetime.combine(day + timedelta(days=1), MORNING, tzinfo=ctx.tz)
            due = min(due, morning.astimezone(ctx.now.tzinfo))
    return due


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
    status: Status = max(
        (r.status for r in reasons if RULES_BY_ID[r.rule_id].sets_status),
        key=lambda s: SEVERITY[s],
        default="maintain",
    )
    reasons.sort(key=lambda r: (-SEVERITY[r.status], r.rule_id, r.exercises))
    return Advice(
        status=status,
        reasons=tuple(reasons),
        exercises=_actions(reasons, ctx.doses, status),
        ruleset_version=RULESET_VERSION,
        evaluated_at=now,
        next_checkin_due_at=next_checkin_due(ctx),
        stale=stale(ctx),
        # Nothing to fill in while the advice is to get emergency care.
        measures_due=() if status == "urgent_care" else measures_due(history.outcomes),
    )
