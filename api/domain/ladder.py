"""The dose ladder: one small step up or down from a person's current dose.

CLINICAL.md (ACSM 2009: one variable at a time, small steps): reps from the
catalog minimum to its maximum in steps of about 2-3, then hold time (+2 s up to
the catalog maximum), then one more set (max 3, reps back to the lowest step that
keeps the volume), then the harder variation. Regression walks the same ladder
down, and below its floor moves to the easier variation (at the top of its
ladder, a dose the person has already managed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from api.domain.types import Dose

MAX_SETS = 3  # CLINICAL.md: one more set, max 3
REP_STEP = 3  # "steps of about 2-3" (5, 8, 10 for "5-10 times")
HOLD_STEP = 2  # "+2 s up to the catalog maximum"
SECONDS_PER_REP = 3  # a slow, controlled repetition, for volume estimates


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


def _steps(low: int, high: int, step: int) -> list[int]:
    values = [low]
    while values[-1] < high:
        gap = high - values[-1]
        values.append(high if gap <= step else values[-1] + step)
    return values


def ladder(c: CatalogDose) -> list[Dose]:
    """Every dose of the exercise, easiest first."""
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
            # One more set, reps back to the lowest step that does not lose volume.
            start = next(r for r in counted if sets * r >= (sets - 1) * top)
            levels += [dose(sets, r, holds[-1]) for r in counted if r >= start]
    return levels


def first_dose(c: CatalogDose) -> Dose:
    return ladder(c)[0]


def volume(d: Dose) -> float:
    """Seconds of work in one session at this dose (for volume caps and estimates)."""
    sides = 2 if d.per_side else 1
    return d.sets * (d.reps or 1) * sides * (SECONDS_PER_REP + (d.hold_seconds or 0))


def level_of(d: Dose, levels: list[Dose]) -> int:
    """The ladder position of a dose; an off-ladder dose sits at the highest level not above it."""
    for index, level in enumerate(levels):
        if (level.sets, level.reps, level.hold_seconds) == (d.sets, d.reps, d.hold_seconds):
            return index
    below = [i for i, level in enumerate(levels) if volume(level) <= volume(d)]
    return below[-1] if below else 0


def step_up(d: Dose, catalog: Mapping[str, CatalogDose]) -> Dose | None:
    """The next dose, or None at the top of a ladder with no harder variation."""
    c = catalog.get(d.exercise_slug)
    if c is None:
        return None
    levels = ladder(c)
    index = level_of(d, levels)
    if index + 1 < len(levels):
        return levels[index + 1]
    if c.harder and c.harder in catalog:
        return first_dose(catalog[c.harder])
    return None


def step_down(d: Dose, catalog: Mapping[str, CatalogDose]) -> Dose | None:
    """The previous dose, or None at the floor of a ladder with no easier variation."""
    c = catalog.get(d.exercise_slug)
    if c is None:
        return None
    levels = ladder(c)
    index = level_of(d, levels)
    if levels[index] != d and volume(levels[index]) < volume(d):
        return levels[index]  # off-ladder: down to the ladder first
    if index > 0:
        return levels[index - 1]
    if c.easier and c.easier in catalog:
        return ladder(catalog[c.easier])[-1]
    return None
