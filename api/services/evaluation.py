"""The one way into the rule service: load, let the domain decide, store (on writes only).

Every flow that changes what the rules see (a check-in, a workout log, a session built,
a clinician's resolution) calls `evaluate_person(..., record=True)` inside its own
transaction: new dose decisions go into the ledger and the routine, and the advice is
kept when it changed. Reads call it with `record=False`: the same decisions are worked
out in memory and shown (the routine as the next write would store it), and nothing is
written. A read's evaluation is kept (services/evaluation_cache.py) and served to the
next reads until a write to the person's data or the passage of time could change it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlmodel import Session

from api.changes import holds_person
from api.domain.catalog import CatalogInfo
from api.domain.decisions import (
    Clearance,
    DoseStep,
    RoutineEntry,
    apply_steps,
    decision_keys,
    doses_in_force,
    plan_steps,
    starting_routine,
)
from api.domain.evidence import local_day, zone
from api.domain.horizon import advice_at, holds_until
from api.domain.rules import evaluate
from api.domain.types import Advice
from api.models import User
from api.services import routine as stored
from api.services.advice import store_if_changed
from api.services.evaluation_cache import cache_for
from api.services.history import latest_advice, load_history, thresholds_for
from api.services.screening_state import ScreenState, screened_clearance


@dataclass
class Evaluation:
    advice: Advice
    # The routine after this evaluation's decisions (stored, or as a write would store it).
    routine: dict[str, RoutineEntry]
    catalog: Mapping[str, CatalogInfo]
    clearance: Clearance
    screen: ScreenState
    steps: list[DoseStep] = field(default_factory=list)

    def today(self, timezone: str) -> date:
        return local_day(self.advice.evaluated_at, zone(timezone))


def _switchable(clearance: Clearance, catalog: Mapping[str, CatalogInfo]) -> frozenset[str] | None:
    """The exercises a step may move onto (None: all), so messages claim no move onto a
    variation the clinician has not cleared or the screen rules out."""
    if not clearance.excluded:
        return clearance.cleared
    pool = clearance.cleared if clearance.cleared is not None else catalog
    return frozenset(s for s in pool if clearance.allows(s))


def evaluate_person(
    session: Session,
    user: User,
    now: datetime,
    catalog: Mapping[str, CatalogInfo],
    *,
    record: bool,
    cached: bool = True,
) -> Evaluation:
    """Evaluate the rules for `user` at `now`. With `record`, store what it decided in the
    caller's transaction (the caller commits); without, write nothing, and serve (and
    keep) a cached evaluation when `cached` and one is current."""
    cache = cache_for(session) if cached and not record else None
    if cache is not None:
        kept: Evaluation | None = cache.get(user, catalog, now)
        if kept is not None:
            return replace(kept, advice=advice_at(kept.advice, now), routine=dict(kept.routine))
    rows = stored.load_rows(session, user.id)
    starting = starting_routine(catalog, stored.entries(rows))
    if record and starting:
        # Stored first, then read back: a concurrent request may have stored (and moved)
        # them already, and decisions must start from what is stored.
        rows = stored.insert_starting(session, user.id, starting, now)
        starting = {}
    routine = {**stored.entries(rows), **starting}
    clearance, screen = screened_clearance(
        session, user, catalog, local_day(now, zone(user.timezone))
    )
    doses = doses_in_force(routine, catalog, clearance)
    # An exercise left out (0 sets) counts its sessions from when that was stored.
    out_since = {slug: row.updated_at for slug, row in rows.items() if row.sets <= 0}
    changed = {slug: row.updated_at for slug, row in rows.items()}
    # Read while this transaction holds the person, the latest advice is still the latest
    # when the new advice is stored: no second read then.
    held = record and holds_person(session, user.id)
    latest = latest_advice(session, user.id)
    history = load_history(
        session,
        user.id,
        now,
        doses,
        user.timezone,
        out_since,
        changed,
        _switchable(clearance, catalog),
        screen.risk_factors,
        latest,
    )
    ladders = {slug: info.dose for slug, info in catalog.items()}
    advice = evaluate(history, now, thresholds=thresholds_for(session, user.id), catalog=ladders)
    applied = stored.applied_keys(session, user.id, decision_keys(advice))
    steps, after = plan_steps(advice, routine, ladders, clearance, applied)
    if record:
        steps = stored.record_steps(session, user.id, steps, now)
        after = apply_steps(routine, steps)
        # Only what this evaluation's own steps moved is written.
        touched = {slug for s in steps if s.moves for slug in (s.exercise_slug, s.to_slug)}
        stored.save(session, user.id, rows, {k: after[k] for k in touched}, now)
        store_if_changed(session, user.id, advice, latest=latest, current=held)
    evaluation = Evaluation(advice, after, catalog, clearance, screen, steps)
    if cache is not None:
        # The stored screen row belongs to this session: entries never carry it.
        kept = replace(evaluation, screen=replace(screen, row=None), routine=dict(after))
        cache.put(user, catalog, now, holds_until(history, now), kept)
    return evaluation
