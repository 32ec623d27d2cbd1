"""The dose ladder: one small step up or down from a person's current dose.

docs/clinical.md (ACSM 2009: one variable at a time, small steps): reps from the
catalog minimum to its maximum in steps of about 2-3, then hold time (+2 s up to
the catalog maximum), then one more set (max 3), then the harder variation.
Regression walks the same ladder down and, ruleset v2, keeps going below the
catalog floor: fewer reps (down to 3), shorter holds (down to 3 s), one set;
past that the exercise is left out (a dose of 0 sets) until it is brought back
at the bottom rung. An easier variation is taken at the floor only when its first
dose is less work than the current one, so "easier" is never more work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from api.domain.types import Dose, memo

MAX_SETS = 3  # docs/clinical.md: one more set, max 3
REP_STEP = 3  # "steps of about 2-3" (5, 8, 10 for "5-10 times")
HOLD_STEP = 2  # "+2 s up to the catalog maximum"
SECONDS_PER_REP = 3  # a slow, controlled repetition, for volume estimates
# docs/clinical.md, below the floor: "fewer reps (down to 3), shorter holds (down to 3 s)".
MIN_REPS = 3
MIN_HOLD_SECONDS = 3


@dataclass(frozen=True)
class CatalogDose:
    """What the catalog prescribes for an exercise, and its variations."""

    slug: str
    sets: int = 1
    reps_min: int | None = None
    reps_max: int | None = None
    hold_seconds: int | None = None
    hold_seconds_max: int | None = None
    per_side: bool = False
    easier: str | None = None
    harder: str | None = None
    # What people call it; messages name exercises, never slugs.
    name: str = ""


def _steps(low: int, high: int, step: int) -> list[int]:
    values = [low]
    # Bounded by the span (each step climbs at least 1), so it can never spin.
    for _ in range(max(high - low, 0)):
        if values[-1] >= high:
            break
        gap = high - values[-1]
        values.append(high if gap <= step else values[-1] + step)
    return values


def _down_to(start: int, floor: int, step: int) -> list[int]:
    """Values below `start`, each `step` lower, ending at `floor` (empty if at or below)."""
    values: list[int] = []
    current = start
    for _ in range(max(start - floor, 0)):
        if current <= floor:
            break
        current = max(floor, current - step)
        values.append(current)
    return values


def catalog_ladder(c: CatalogDose) -> list[Dose]:
    """The catalog's own doses, easiest first (its first rung is the floor)."""
    # Kept on the catalog entry, which lives as long as its catalog snapshot.
    return list(memo(c, "_catalog_ladder", _catalog_rungs))


def _catalog_rungs(c: CatalogDose) -> tuple[Dose, ...]:
    reps = _steps(c.reps_min, c.reps_max or c.reps_min, REP_STEP) if c.reps_min else [None]
    holds = (
        _steps(c.hold_seconds, c.hold_seconds_max or c.hold_seconds, HOLD_STEP)
        if c.hold_seconds
        else [None]
    )

    def dose(sets: int, r: int | None, h: int | None) -> Dose:
        return Dose(c.slug, sets, r, h, c.per_side)

    levels = [dose(c.sets, r, holds[0]) for r in reps]
    levels += [dose(c.sets, reps[-1], h) for h in holds[1:]]
    counted = [r for r in reps if r is not None]
    if counted:
        top = counted[-1]
        for sets in range(c.sets + 1, MAX_SETS + 1):
            # One more set, reps back to the lowest step that is more work than the rung
            # before it: every step up is more work, so every step down is less.
            start = next((r for r in counted if sets * r > (sets - 1) * top), top)
            levels += [dose(sets, r, holds[-1]) for r in counted if r >= start]
    return tuple(levels)


def below_floor(c: CatalogDose) -> list[Dose]:
    """The rungs under the catalog floor, easiest first: reps, then holds, then sets."""
    return list(memo(c, "_below_floor", _rungs_below))


def _rungs_below(c: CatalogDose) -> tuple[Dose, ...]:
    floor = catalog_ladder(c)[0]
    rungs: list[Dose] = []
    current = floor
    if current.reps is not None:
        for reps in _down_to(current.reps, MIN_REPS, REP_STEP):
            current = replace(current, reps=reps)
            rungs.append(current)
    if current.hold_seconds is not None:
        for hold in _down_to(current.hold_seconds, MIN_HOLD_SECONDS, HOLD_STEP):
            current = replace(current, hold_seconds=hold)
            rungs.append(current)
    if current.sets > 1:
        current = replace(current, sets=1)
        rungs.append(current)
    return tuple(reversed(rungs))


def ladder(c: CatalogDose) -> list[Dose]:
    """Every dose of the exercise, easiest first: below the floor, then the catalog's."""
    return below_floor(c) + catalog_ladder(c)


def floor_index(c: CatalogDose) -> int:
    """Where the catalog's first dose sits in `ladder(c)`."""
    return len(below_floor(c))


def first_dose(c: CatalogDose) -> Dose:
    """The catalog floor: where a new routine starts an exercise."""
    return catalog_ladder(c)[0]


def left_out(d: Dose) -> bool:
    """A dose of no sets: the exercise is left out of sessions for now."""
    return d.sets <= 0


def volume(d: Dose) -> float:
    """Seconds of work in one session at this dose (for volume caps and estimates)."""
    sides = 2 if d.per_side else 1
    return d.sets * (d.reps or 1) * sides * (SECONDS_PER_REP + (d.hold_seconds or 0))


def work(d: Dose) -> int:
    """docs/clinical.md's measure of "more work": sets x reps x max(hold s, 1) x sides."""
    sides = 2 if d.per_side else 1
    return max(d.sets, 0) * (d.reps or 1) * max(d.hold_seconds or 0, 1) * sides


def level_of(d: Dose, levels: list[Dose]) -> int:
    """The ladder position of a dose; an off-ladder dose sits at the highest level not
    above it (by work); a left-out dose sits below the bottom (-1)."""
    if left_out(d):
        return -1
    for index, level in enumerate(levels):
        if (level.sets, level.reps, level.hold_seconds) == (d.sets, d.reps, d.hold_seconds):
            return index
    below = [i for i, level in enumerate(levels) if work(level) <= work(d)]
    return below[-1] if below else 0


def step_up(d: Dose, catalog: Mapping[str, CatalogDose]) -> Dose | None:
    """The next dose, or None at the top of a ladder with no harder variation. A left-out
    exercise comes back at the bottom rung."""
    c = catalog.get(d.exercise_slug)
    if c is None:
        return None
    levels = ladder(c)
    if left_out(d):
        return levels[0]
    index = level_of(d, levels)
    if work(levels[index]) > work(d):
        return levels[index]  # below every rung (an odd dose): up to the ladder first
    if index + 1 < len(levels):
        return levels[index + 1]
    if c.harder and c.harder in catalog:
        return first_dose(catalog[c.harder])
    return None


def step_down(d: Dose, catalog: Mapping[str, CatalogDose]) -> Dose | None:
    """The next easier dose, always less work: down the ladder, to the easier variation
    at the floor when its first dose is less work, below the floor, and finally left out.
    None only for an exercise already left out, or not in the catalog."""
    c = catalog.get(d.exercise_slug)
    if c is None or left_out(d):
        return None
    levels = ladder(c)
    index = level_of(d, levels)
    if work(levels[index]) < work(d):
        return levels[index]  # off-ladder: down to the ladder first
    if index <= floor_index(c) and c.easier and c.easier in catalog:
        easier = first_dose(catalog[c.easier])
        if work(easier) < work(d):
            return easier
    if index > 0 and work(levels[index - 1]) < work(d):
        return levels[index - 1]
    return replace(d, sets=0)
