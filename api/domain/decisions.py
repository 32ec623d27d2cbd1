"""The action column: how advice moves a person's doses, within a clinician's limits.

Pure. The rule table says which rules move doses and which way (`moves_dose`); here a
decision is keyed by (rule, exercise, the evidence that fired it), so the same evidence
moves a dose once however often it is evaluated, and each exercise moves at most one
step per evaluation. Services load the routine, call these, and store the result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from api.domain.catalog import CatalogInfo
from api.domain.ladder import CatalogDose, first_dose, left_out, step_down, step_up
from api.domain.rule_table import RULES_BY_ID
from api.domain.types import Advice, Dose, SessionScope

# A step down is taken for these statuses of a "down" rule; a step up for "progress".
_STEP_DOWN_STATUSES = frozenset({"regress", "see_doctor"})
# RF1 (urgent care) and RF2 (possible infection or fracture): no session at all until
# an assessment; RF2b (possible cancer): the warm-up and stretches only.
SESSION_REFUSING_RULES = frozenset({"RF1", "RF2"})
WARMUP_AND_STRETCHES_RULES = frozenset({"RF2b"})
# Linked clinicians are alerted when a person's advice turns to one of these.
ALERTING_STATUSES = frozenset({"see_doctor", "urgent_care"})


@dataclass(frozen=True)
class RoutineEntry:
    """One exercise of a person's routine: the dose stored, and whether it is in use."""

    dose: Dose
    active: bool = True


Routine = Mapping[str, RoutineEntry]


@dataclass(frozen=True)
class Clearance:
    """What a person may be prescribed: a linked clinician's plan (exercises cleared,
    start dates, dose caps) and what their screen rules out (`excluded`, with its
    limits folded into `caps`; domain/screening.py)."""

    cleared: frozenset[str] | None = None
    not_before: Mapping[str, date] | None = None
    caps: Mapping[str, Mapping[str, int]] | None = None
    excluded: frozenset[str] = frozenset()

    def allows(self, slug: str) -> bool:
        """Cleared by the plan (or no list) and not ruled out by the screen."""
        return slug not in self.excluded and (self.cleared is None or slug in self.cleared)

    def waiting(self, today: date) -> frozenset[str]:
        return frozenset(slug for slug, start in (self.not_before or {}).items() if start > today)

    def cap(self, dose: Dose) -> Dose:
        limit = (self.caps or {}).get(dose.exercise_slug)
        if not limit:
            return dose
        return Dose(
            dose.exercise_slug,
            min(dose.sets, limit.get("sets", dose.sets)),
            min(dose.reps, limit["reps"])
            if dose.reps is not None and "reps" in limit
            else dose.reps,
            min(dose.hold_seconds, limit["hold_seconds"])
            if dose.hold_seconds is not None and "hold_seconds" in limit
            else dose.hold_seconds,
            dose.per_side,
        )

    def exceeds(self, dose: Dose) -> bool:
        return self.cap(dose) != dose

    def permits(self, current: Dose, target: Dose) -> bool:
        """May the ladder step from `current` up to `target`?"""
        if target.exercise_slug != current.exercise_slug:
            # Moving on to the harder variation: not past a cap on this exercise, and
            # only to an exercise the clinician has cleared.
            if current.exercise_slug in (self.caps or {}):
                return False
            if not self.allows(target.exercise_slug):
                return False
        return not self.exceeds(target)

    def may_switch(self, slug: str, to_slug: str) -> bool:
        """May a step take this exercise over to `to_slug` (a variation)?"""
        return to_slug == slug or self.allows(to_slug)

    def shows(self, slug: str, today: date) -> bool:
        """Whether an exercise belongs in the person's routine today."""
        return self.allows(slug) and slug not in self.waiting(today)


NO_CLEARANCE = Clearance()


def starting_routine(
    catalog: Mapping[str, CatalogInfo], routine: Routine
) -> dict[str, RoutineEntry]:
    """Entries for exercises new to the person: the catalog's easiest dose. Warm-ups are
    not dosed, archived exercises not started, and a harder variation waits until its
    easier one is mastered."""
    return {
        info.slug: RoutineEntry(first_dose(info.dose), active=info.dose.easier is None)
        for info in catalog.values()
        if info.slug not in routine and info.category != "warmup" and not info.archived
    }


def fingerprint(advice: Advice) -> str:
    """Same status, same rules for the same exercises, same actions: the same advice."""
    key = {
        "status": advice.status,
        "reasons": sorted([r.rule_id, r.status, list(r.exercises)] for r in advice.reasons),
        "exercises": advice.exercises,
        "ruleset": advice.ruleset_version,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def session_scope(advice: Advice) -> SessionScope:
    """What a session may hold under this advice: nothing (RF1, RF2), the warm-up and
    stretches (RF2b), gentle stretches (any other doctor's view pending), or everything."""
    rules = {r.rule_id for r in advice.reasons}
    if advice.status == "urgent_care" or rules & SESSION_REFUSING_RULES:
        return "none"
    # Any other doctor's view pending narrows a session to gentle stretches, also when
    # RF2b stands with it: the narrower of the two.
    doctor = {r.rule_id for r in advice.reasons if r.status == "see_doctor"}
    if doctor - WARMUP_AND_STRETCHES_RULES:
        return "gentle"
    if rules & WARMUP_AND_STRETCHES_RULES:
        return "warmup_and_stretches"
    return "full"


def refuses_sessions(advice: Advice) -> bool:
    return session_scope(advice) == "none"


def refusal(advice: Advice) -> str:
    """Why no session can be built, in the words of the rule that refuses it."""
    for reason in advice.reasons:
        if reason.rule_id in SESSION_REFUSING_RULES or reason.status == "urgent_care":
            return reason.message
    return "No session can be built until a professional has seen you."


def alerts_clinicians(status: str) -> bool:
    return status in ALERTING_STATUSES


def prescribable(routine: Routine, clearance: Clearance) -> dict[str, Dose]:
    """What the builder may prescribe: every active exercise at its dose within caps,
    except those left out for now (0 sets) and those the screen rules out."""
    return {
        slug: clearance.cap(e.dose)
        for slug, e in routine.items()
        if e.active and not left_out(e.dose) and slug not in clearance.excluded
    }


def doses_in_force(
    routine: Routine, catalog: Mapping[str, CatalogInfo], clearance: Clearance
) -> tuple[Dose, ...]:
    """The doses the rules judge: active, in the catalog, not ruled out by the screen,
    and within a clinician's caps (and the screen's limits)."""
    return tuple(
        clearance.cap(entry.dose)
        for slug, entry in sorted(routine.items())
        if entry.active
        and slug in catalog
        and not catalog[slug].archived
        and slug not in clearance.excluded
    )


@dataclass(frozen=True)
class DoseStep:
    """One decision of the ledger: the rule, the exercise, the dose before and after."""

    key: str
    rule_id: str
    source: str
    exercise_slug: str
    from_dose: Dose
    to_dose: Dose

    @property
    def moves(self) -> bool:
        return self.to_dose != self.from_dose

    @property
    def to_slug(self) -> str:
        return self.to_dose.exercise_slug


def _decisions(advice: Advice) -> list[tuple[str, str, str, str, int]]:
    """(key, rule, source, exercise, direction) for every dose-moving reason."""
    out = []
    for reason in advice.reasons:
        move = RULES_BY_ID[reason.rule_id].moves_dose
        if move == "up" and reason.status == "progress":
            direction = 1
        elif move == "down" and reason.status in _STEP_DOWN_STATUSES:
            direction = -1
        else:
            continue
        for slug in reason.exercises:
            key = f"{reason.rule_id}:{slug}:{reason.source}"
            out.append((key, reason.rule_id, reason.source, slug, direction))
    return out


def _same_decision(key: str) -> list[str]:
    """Keys that name the same decision as `key`: itself and, for a rule keyed by the day
    its trigger began (F1: the flare's first day), the days either side. That day is the
    person's local day, so it moves by one when their time zone changes, and the start of
    a run can shift by a day as the baseline window moves; it is still one flare, eased
    once. Two different flares begin at least two days apart (an ordinary day ends one)."""
    rule_id, slug, source = key.split(":", 2)
    if not RULES_BY_ID[rule_id].keyed_by_day:
        return [key]
    try:
        day = date.fromisoformat(source)
    except ValueError:
        return [key]
    return [key] + [f"{rule_id}:{slug}:{day + timedelta(days=d)}" for d in (-1, 1)]


def decision_keys(advice: Advice) -> list[str]:
    """The ledger keys to look up for this advice's dose decisions (were they applied?)."""
    return [same for key, *_ in _decisions(advice) for same in _same_decision(key)]


def _moved(routine: Routine, step: DoseStep) -> dict[str, RoutineEntry]:
    out = dict(routine)
    if step.to_dose.exercise_slug == step.exercise_slug:
        out[step.exercise_slug] = replace(out[step.exercise_slug], dose=step.to_dose)
        return out
    # Past the top or below the floor: on to the harder or easier variation.
    out[step.exercise_slug] = replace(out[step.exercise_slug], active=False)
    out[step.to_dose.exercise_slug] = RoutineEntry(step.to_dose, active=True)
    return out


def plan_steps(
    advice: Advice,
    routine: Routine,
    ladders: Mapping[str, CatalogDose],
    clearance: Clearance,
    applied: Collection[str],
) -> tuple[list[DoseStep], dict[str, RoutineEntry]]:
    """The new decisions of this advice (keys not in `applied`) and the routine after them.

    Every new decision is recorded, even one that cannot move (a floor, a cap), so it is
    not tried again; one step per exercise per evaluation, whatever the number of reasons.
    """
    state = dict(routine)
    done = set(applied)
    moved: set[str] = set()
    steps: list[DoseStep] = []
    for key, rule_id, source, slug, direction in _decisions(advice):
        entry = state.get(slug)
        if entry is None or not entry.active or any(k in done for k in _same_decision(key)):
            continue
        # Steps start from the dose in force, which a clinician's cap may hold below the
        # stored one: a regression must lower what the person actually does.
        current = clearance.cap(entry.dose)
        target: Dose | None = None
        if slug not in moved:
            target = step_up(current, ladders) if direction > 0 else step_down(current, ladders)
            if (
                direction < 0
                and target is not None
                and not clearance.may_switch(slug, target.exercise_slug)
            ):
                # An easier variation the clinician has not cleared: stay on this
                # exercise's own ladder (below its floor if need be).
                target = step_down(current, {slug: ladders[slug]})
        target = target or current
        if direction > 0 and not clearance.permits(current, target):
            target = current  # a clinician's cap or clearance: the ladder stops here
        step = DoseStep(key, rule_id, source, slug, current, target)
        done.add(key)
        steps.append(step)
        if step.moves:
            state = _moved(state, step)
            moved.add(slug)
    return steps, state


def apply_steps(routine: Routine, steps: Iterable[DoseStep]) -> dict[str, RoutineEntry]:
    state = dict(routine)
    for step in steps:
        if step.moves:
            state = _moved(state, step)
    return state


def revert_steps(routine: Routine, newest_first: Iterable[DoseStep]) -> dict[str, RoutineEntry]:
    """Undo steps (a corrected log's), newest first. A step is undone only while the dose
    is still what it set; later changes built on top of it stand."""
    state = dict(routine)
    for step in newest_first:
        to_slug = step.to_dose.exercise_slug
        target, original = state.get(to_slug), state.get(step.exercise_slug)
        if target is None or original is None or target.dose != step.to_dose:
            continue
        if to_slug != step.exercise_slug:
            state[to_slug] = replace(target, active=False)
            original = replace(original, active=True)
        state[step.exercise_slug] = replace(original, dose=step.from_dose)
    return state
