"""The dose ladder of CLINICAL.md, with the catalog's own numbers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain.ladder import (
    MAX_SETS,
    CatalogDose,
    first_dose,
    ladder,
    level_of,
    step_down,
    step_up,
    volume,
)
from api.domain.types import Dose

LAT = CatalogDose("lat-pulldown", 1, 5, 10, 3, 5, harder="wide-dumbbell-row")
ROW = CatalogDose("wide-dumbbell-row", 1, 10, 15, 3, 5, easier="lat-pulldown")
HUG = CatalogDose("knee-hug", 1, 5, 5, 10, 15)
WARM = CatalogDose("warm-up", 1)
CATALOG = {c.slug: c for c in (LAT, ROW, HUG, WARM)}


def shape(doses: list[Dose]) -> list[tuple[int, int | None, int | None]]:
    return [(d.sets, d.reps, d.hold_seconds) for d in doses]


def test_reps_then_hold_then_sets() -> None:
    assert shape(ladder(LAT)) == [
        (1, 5, 3), (1, 8, 3), (1, 10, 3),  # reps 5, 8, 10 ("5-10 times")
        (1, 10, 5),  # hold +2 s up to the catalog maximum
        (2, 5, 5), (2, 8, 5), (2, 10, 5),  # one more set, reps from the minimum
        (3, 8, 5), (3, 10, 5),  # max 3 sets; 3 x 5 would be less work than 2 x 10
    ]  # fmt: skip
    assert shape(ladder(HUG)) == [
        (1, 5, 10), (1, 5, 12), (1, 5, 14), (1, 5, 15), (2, 5, 15), (3, 5, 15)
    ]  # fmt: skip
    assert shape(ladder(WARM)) == [(1, None, None)]


def test_top_of_the_ladder_moves_to_the_harder_variation_and_back() -> None:
    top = ladder(LAT)[-1]
    harder = step_up(top, CATALOG)
    assert harder == first_dose(ROW)
    assert step_down(harder, CATALOG) == ladder(LAT)[-1]
    assert step_up(ladder(HUG)[-1], CATALOG) is None  # nothing harder
    assert step_down(first_dose(HUG), CATALOG) is None  # nothing easier
    assert step_up(first_dose(WARM), CATALOG) is None


def test_unknown_exercise_has_no_step() -> None:
    assert step_up(Dose("nope", 1, 5, None), CATALOG) is None
    assert step_down(Dose("nope", 1, 5, None), CATALOG) is None


def test_off_ladder_dose_steps_down_to_the_ladder_first() -> None:
    odd = Dose("lat-pulldown", 1, 9, 3)
    assert level_of(odd, ladder(LAT)) == 1  # between 8 and 10 reps
    assert step_down(odd, CATALOG) == Dose("lat-pulldown", 1, 8, 3)
    assert step_up(odd, CATALOG) == Dose("lat-pulldown", 1, 10, 3)


catalog_doses = st.builds(
    lambda rmin, rspan, hmin, hspan, per_side: CatalogDose(
        "x", 1, rmin, rmin + rspan, hmin, (hmin + hspan) if hmin else None, per_side
    ),
    st.integers(1, 20),
    st.integers(0, 15),
    st.one_of(st.none(), st.integers(1, 20)),
    st.integers(0, 20),
    st.booleans(),
)


@given(catalog_doses)
def test_every_step_is_small_and_in_order(c: CatalogDose) -> None:
    levels = ladder(c)
    catalog = {"x": c}
    assert levels[0] == first_dose(c)
    for lower, upper in zip(levels, levels[1:], strict=False):
        assert volume(upper) >= volume(lower)
        assert step_up(lower, catalog) == upper
        assert step_down(upper, catalog) == lower
        changed = [
            a != b
            for a, b in zip(
                (lower.sets, lower.reps, lower.hold_seconds),
                (upper.sets, upper.reps, upper.hold_seconds),
                strict=True,
            )
        ]
        # One more set resets reps; otherwise one variable moves at a time.
        assert sum(changed) == 1 or upper.sets == lower.sets + 1
        if upper.reps is not None and lower.reps is not None and upper.sets == lower.sets:
            assert upper.reps - lower.reps <= 3
    assert all(d.sets <= MAX_SETS for d in levels)
    assert c.reps_min is not None and c.reps_max is not None
    assert all(c.reps_min <= (d.reps or 0) <= c.reps_max for d in levels)


@pytest.mark.parametrize("c", [LAT, ROW, HUG])
def test_step_up_then_down_returns(c: CatalogDose) -> None:
    for dose in ladder(c)[:-1]:
        up = step_up(dose, CATALOG)
        assert up is not None
        assert step_down(up, CATALOG) == dose
