"""The dose ladder of CLINICAL.md (ruleset v2), with the catalog's own numbers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.ladder import (
    MAX_SETS,
    MIN_HOLD_SECONDS,
    MIN_REPS,
    CatalogDose,
    below_floor,
    catalog_ladder,
    first_dose,
    floor_index,
    ladder,
    left_out,
    level_of,
    step_down,
    step_up,
    work,
)
from api.domain.types import Dose

# The seeded catalog (seed_data/exercises.yaml), as the ladder sees it.
LAT = CatalogDose("lat-pulldown", 1, 5, 10, 3, 5, harder="wide-dumbbell-row")
ROW = CatalogDose("wide-dumbbell-row", 1, 10, 15, 3, 5, easier="lat-pulldown")
BACK = CatalogDose("back-extension", 1, 5, 10, 3, 5, easier="superman")
SUPERMAN = CatalogDose("superman", 1, 10, 15, 2, 2, harder="back-extension")
HUG = CatalogDose("knee-hug", 1, 5, 5, 10, 15)
LEG = CatalogDose("lying-lateral-leg-raise", 1, 10, 10, 2, 2, per_side=True)
BRIDGE = CatalogDose("glute-bridge", 1, 5, 10, 2, 3)
ROTATE = CatalogDose("lower-back-rotational-stretch", 1, 5, 10, 5, 10, per_side=True)
WARM = CatalogDose("warm-up", 1)
SEED = (LAT, ROW, BACK, SUPERMAN, HUG, LEG, BRIDGE, ROTATE)
CATALOG = {c.slug: c for c in (*SEED, WARM)}

Shape = tuple[int, int | None, int | None]


def shape(doses: list[Dose]) -> list[Shape]:
    return [(d.sets, d.reps, d.hold_seconds) for d in doses]


def dose(c: CatalogDose, sets: int, reps: int | None, hold: int | None) -> Dose:
    return Dose(c.slug, sets, reps, hold, c.per_side)


# --- work ------------------------------------------------------------------------------


def test_work_is_sets_times_reps_times_hold_times_sides() -> None:
    assert work(Dose("x", 1, 5, 3)) == 15
    assert work(Dose("x", 2, 10, 5, per_side=True)) == 200
    assert work(Dose("x", 1, 10, 2)) == 20
    assert work(Dose("x", 3, 8, None)) == 24  # no hold counts as 1 s
    assert work(Dose("x", 2, None, None)) == 2
    assert work(Dose("x", 0, 5, 3)) == 0  # left out
    assert left_out(Dose("x", 0, 5, 3)) and not left_out(Dose("x", 1, 5, 3))


# --- exact ladders of the seeded catalog ----------------------------------------------


def test_lat_pulldown_ladder() -> None:
    assert shape(below_floor(LAT)) == [(1, 3, 3)]  # 5 -> 3 reps; a 3 s hold is the floor
    assert shape(catalog_ladder(LAT)) == [
        (1, 5, 3), (1, 8, 3), (1, 10, 3),  # reps 5, 8, 10 ("5-10 times")
        (1, 10, 5),  # hold +2 s up to the catalog maximum
        (2, 8, 5), (2, 10, 5),  # one more set: 2 x 8 > 1 x 10, and 2 x 5 would not be
        (3, 8, 5), (3, 10, 5),  # max 3 sets: 3 x 8 > 2 x 10
    ]  # fmt: skip
    assert floor_index(LAT) == 1
    assert ladder(LAT)[floor_index(LAT)] == first_dose(LAT) == dose(LAT, 1, 5, 3)


def test_wide_dumbbell_row_ladder() -> None:
    assert shape(ladder(ROW)) == [
        (1, 3, 3), (1, 4, 3), (1, 7, 3),  # below the floor: 10, 7, 4, 3 reps
        (1, 10, 3), (1, 13, 3), (1, 15, 3), (1, 15, 5),
        (2, 10, 5), (2, 13, 5), (2, 15, 5),
        (3, 13, 5), (3, 15, 5),  # 3 x 10 = 2 x 15 is not more work
    ]  # fmt: skip
    assert floor_index(ROW) == 3


def test_knee_hug_ladder() -> None:
    assert shape(ladder(HUG)) == [
        # below the floor: 5 -> 3 reps at 10 s, then holds 8, 6, 4, 3 s
        (1, 3, 3), (1, 3, 4), (1, 3, 6), (1, 3, 8), (1, 3, 10),
        (1, 5, 10), (1, 5, 12), (1, 5, 14), (1, 5, 15),  # holds +2 s to 15
        (2, 5, 15), (3, 5, 15),
    ]  # fmt: skip
    assert floor_index(HUG) == 5
    down = [first_dose(HUG)]
    while not left_out(down[-1]):
        nxt = step_down(down[-1], CATALOG)
        assert nxt is not None
        down.append(nxt)
    assert shape(down) == [
        (1, 5, 10), (1, 3, 10), (1, 3, 8), (1, 3, 6), (1, 3, 4), (1, 3, 3), (0, 3, 3)
    ]  # fmt: skip


def test_other_seeded_ladders() -> None:
    assert shape(ladder(SUPERMAN)) == [
        (1, 3, 2), (1, 4, 2), (1, 7, 2),  # a 2 s hold is already under 3 s: kept
        (1, 10, 2), (1, 13, 2), (1, 15, 2),
        (2, 10, 2), (2, 13, 2), (2, 15, 2), (3, 13, 2), (3, 15, 2),
    ]  # fmt: skip
    assert shape(ladder(LEG)) == [
        (1, 3, 2), (1, 4, 2), (1, 7, 2), (1, 10, 2), (2, 10, 2), (3, 10, 2)
    ]  # fmt: skip
    assert all(d.per_side for d in ladder(LEG))
    assert shape(ladder(BRIDGE)) == [
        (1, 3, 2),
        (1, 5, 2), (1, 8, 2), (1, 10, 2), (1, 10, 3),
        (2, 8, 3), (2, 10, 3), (3, 8, 3), (3, 10, 3),
    ]  # fmt: skip
    assert shape(ladder(ROTATE)) == [
        (1, 3, 3), (1, 3, 5),  # reps 5 -> 3, then hold 5 -> 3 s
        (1, 5, 5), (1, 8, 5), (1, 10, 5), (1, 10, 7), (1, 10, 9), (1, 10, 10),
        (2, 8, 10), (2, 10, 10), (3, 8, 10), (3, 10, 10),
    ]  # fmt: skip
    assert shape(ladder(WARM)) == [(1, None, None)]


def test_a_multi_set_floor_goes_down_reps_then_hold_then_to_one_set() -> None:
    c = CatalogDose("x", 2, 5, 10, 4)
    assert shape(below_floor(c)) == [(1, 3, 3), (2, 3, 3), (2, 3, 4)]
    assert shape(catalog_ladder(c)) == [
        (2, 5, 4), (2, 8, 4), (2, 10, 4), (3, 8, 4), (3, 10, 4)
    ]  # fmt: skip


# --- variations ------------------------------------------------------------------------


def test_back_extension_floor_does_not_go_to_the_superman() -> None:
    floor = first_dose(BACK)
    assert work(floor) == 15 and work(first_dose(SUPERMAN)) == 20  # "easier" is more work
    below = step_down(floor, CATALOG)
    assert below == dose(BACK, 1, 3, 3)
    assert step_down(below, CATALOG) == dose(BACK, 0, 3, 3)  # left out
    assert step_down(dose(BACK, 0, 3, 3), CATALOG) is None  # nothing below left out
    assert step_up(dose(BACK, 0, 3, 3), CATALOG) == dose(BACK, 1, 3, 3)  # back at the bottom
    assert step_up(below, CATALOG) == floor


def test_wide_dumbbell_row_floor_goes_to_the_lat_pulldown() -> None:
    floor = first_dose(ROW)
    assert work(floor) == 30 and work(first_dose(LAT)) == 15
    assert step_down(floor, CATALOG) == first_dose(LAT) == dose(LAT, 1, 5, 3)
    # Below the row's floor the lat pulldown's first dose is still less work (21, 15).
    assert step_down(dose(ROW, 1, 7, 3), CATALOG) == first_dose(LAT)
    # ... until it is not: 1 x 4 x 3 s = 12 < 15, so the row's own ladder goes on.
    assert step_down(dose(ROW, 1, 4, 3), CATALOG) == dose(ROW, 1, 3, 3)
    assert step_down(dose(ROW, 1, 3, 3), CATALOG) == dose(ROW, 0, 3, 3)


def test_the_easier_variation_is_taken_only_when_strictly_less_work() -> None:
    same = CatalogDose("x", 1, 10, 10, 2, easier="y")
    easy = CatalogDose("y", 1, 5, 5, 4, harder="x")  # 20 = 20: not less work
    catalog = {"x": same, "y": easy}
    assert step_down(first_dose(same), catalog) == Dose("x", 1, 7, 2)
    lighter = CatalogDose("y", 1, 5, 5, 3, harder="x")  # 15 < 20
    assert step_down(first_dose(same), {"x": same, "y": lighter}) == first_dose(lighter)
    # Above the floor the ladder is walked first, whatever the easier variation.
    assert step_down(Dose("x", 2, 10, 2), {"x": same, "y": lighter}) == Dose("x", 1, 10, 2)


def test_top_of_the_ladder_moves_to_the_harder_variation() -> None:
    assert step_up(ladder(LAT)[-1], CATALOG) == first_dose(ROW)
    assert step_up(ladder(SUPERMAN)[-1], CATALOG) == first_dose(BACK)
    assert step_up(ladder(HUG)[-1], CATALOG) is None  # nothing harder
    assert step_up(first_dose(WARM), CATALOG) is None
    # A harder variation missing from the catalog is no step.
    assert step_up(ladder(LAT)[-1], {"lat-pulldown": LAT}) is None
    # An easier variation missing from the catalog: the own ladder goes on.
    assert step_down(first_dose(ROW), {ROW.slug: ROW}) == dose(ROW, 1, 7, 3)


def test_unknown_exercise_has_no_step() -> None:
    assert step_up(Dose("nope", 1, 5, None), CATALOG) is None
    assert step_down(Dose("nope", 1, 5, None), CATALOG) is None
    assert step_up(Dose("nope", 0, 5, None), CATALOG) is None


def test_off_ladder_dose_steps_to_the_ladder_first() -> None:
    odd = Dose("lat-pulldown", 1, 9, 3)
    assert level_of(odd, ladder(LAT)) == 2  # between 8 and 10 reps
    assert step_down(odd, CATALOG) == Dose("lat-pulldown", 1, 8, 3)
    assert step_up(odd, CATALOG) == Dose("lat-pulldown", 1, 10, 3)
    # Equal work to a rung, but not that rung (2 x 5 = 1 x 10): down is the rung below.
    same_work = Dose("lat-pulldown", 2, 5, 3)
    assert step_down(same_work, CATALOG) == Dose("lat-pulldown", 1, 8, 3)
    assert step_up(same_work, CATALOG) == Dose("lat-pulldown", 1, 10, 5)
    # Less work than any rung: up to the bottom rung, down to left out.
    tiny = Dose("lat-pulldown", 1, 2, 3)
    assert level_of(tiny, ladder(LAT)) == 0
    assert step_up(tiny, CATALOG) == ladder(LAT)[0]
    assert step_down(tiny, CATALOG) == Dose("lat-pulldown", 0, 2, 3)
    assert level_of(Dose("lat-pulldown", 0, 5, 3), ladder(LAT)) == -1


@pytest.mark.parametrize("c", SEED, ids=lambda c: c.slug)
def test_seeded_step_up_then_down_returns(c: CatalogDose) -> None:
    for rung in ladder(c):
        down = step_down(rung, CATALOG)
        assert down is not None
        assert left_out(down) or work(down) < work(rung)
        if down.exercise_slug == c.slug:
            assert step_up(down, CATALOG) == rung
    for lower, upper in zip(ladder(c), ladder(c)[1:], strict=False):
        assert step_up(lower, CATALOG) == upper
        assert work(upper) > work(lower)


# --- properties -------------------------------------------------------------------------

catalog_doses = st.builds(
    lambda sets, rmin, rspan, hmin, hspan, per_side: CatalogDose(
        "x",
        sets,
        rmin,
        (rmin + rspan) if rmin else None,
        hmin,
        (hmin + hspan) if hmin else None,
        per_side,
    ),
    st.integers(1, MAX_SETS),
    st.one_of(st.none(), st.integers(1, 20)),
    st.integers(0, 15),
    st.one_of(st.none(), st.integers(1, 20)),
    st.integers(0, 20),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(catalog_doses)
def test_every_step_is_small_in_order_and_more_work(c: CatalogDose) -> None:
    levels = ladder(c)
    catalog = {"x": c}
    assert levels[floor_index(c)] == first_dose(c) == catalog_ladder(c)[0]
    assert levels == below_floor(c) + catalog_ladder(c)
    for lower, upper in zip(levels, levels[1:], strict=False):
        assert work(upper) > work(lower)
        assert step_up(lower, catalog) == upper
        assert step_down(upper, catalog) == lower
    # The bottom rung steps down to left out, and left out comes back at the bottom.
    gone = step_down(levels[0], catalog)
    assert gone is not None and left_out(gone)
    assert step_down(gone, catalog) is None
    assert step_up(gone, catalog) == levels[0]
    for lower, upper in zip(catalog_ladder(c), catalog_ladder(c)[1:], strict=False):
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
        if upper.hold_seconds is not None and lower.hold_seconds is not None:
            assert upper.hold_seconds - lower.hold_seconds <= 2
    assert all(1 <= d.sets <= MAX_SETS and d.per_side == c.per_side for d in levels)
    if c.reps_min is not None and c.reps_max is not None:
        assert all(c.reps_min <= (d.reps or 0) <= c.reps_max for d in catalog_ladder(c))
        assert all(min(MIN_REPS, c.reps_min) <= (d.reps or 0) for d in levels)
    else:
        assert all(d.reps is None for d in levels)
    if c.hold_seconds is not None:
        assert all(min(MIN_HOLD_SECONDS, c.hold_seconds) <= (d.hold_seconds or 0) for d in levels)


@settings(max_examples=100, deadline=None)
@given(catalog_doses)
def test_stepping_down_always_reaches_left_out(c: CatalogDose) -> None:
    catalog = {"x": c}
    levels = ladder(c)
    for start in levels:
        current, steps = start, 0
        while not left_out(current):
            nxt = step_down(current, catalog)
            assert nxt is not None
            assert left_out(nxt) or work(nxt) < work(current)
            current, steps = nxt, steps + 1
            assert steps <= len(levels)
        assert steps == level_of(start, levels) + 1


off_ladder = st.tuples(
    st.integers(0, 4),
    st.one_of(st.none(), st.integers(1, 25)),
    st.one_of(st.none(), st.integers(1, 25)),
)


@settings(max_examples=300, deadline=None)
@given(catalog_doses, off_ladder)
def test_any_dose_steps_down_to_less_work_and_up_to_more(
    c: CatalogDose, raw: tuple[int, int | None, int | None]
) -> None:
    d = dose(c, *raw)
    catalog = {"x": c}
    down = step_down(d, catalog)
    up = step_up(d, catalog)
    if left_out(d):
        assert down is None and up == ladder(c)[0]
        return
    assert down is not None
    assert left_out(down) or work(down) < work(d)
    assert up is None or work(up) > work(d)
    if up is None:
        assert level_of(d, ladder(c)) == len(ladder(c)) - 1


pairs = st.tuples(catalog_doses, catalog_doses).map(
    lambda p: (
        replace(p[0], slug="hard", easier="easy"),
        replace(p[1], slug="easy", harder="hard"),
    )
)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_with_an_easier_variation_every_step_down_is_less_work_and_ends(
    pair: tuple[CatalogDose, CatalogDose],
) -> None:
    hard, easy = pair
    catalog = {"hard": hard, "easy": easy}
    bound = len(ladder(hard)) + len(ladder(easy))
    for start in ladder(hard) + ladder(easy):
        current, steps = start, 0
        while not left_out(current):
            nxt = step_down(current, catalog)
            assert nxt is not None
            assert left_out(nxt) or work(nxt) < work(current)
            if nxt.exercise_slug != current.exercise_slug:
                # Only at or below the floor, only to the easier one's first dose.
                assert current.exercise_slug == "hard" and nxt == first_dose(easy)
                assert level_of(current, ladder(hard)) <= floor_index(hard)
            else:
                # A step down within a ladder is undone by a step up.
                assert step_up(nxt, catalog) == current
            current, steps = nxt, steps + 1
            assert steps <= bound
    # The floor takes the easier variation exactly when its first dose is less work.
    down = step_down(first_dose(hard), catalog)
    assert down is not None
    takes_easier = work(first_dose(easy)) < work(first_dose(hard))
    assert (down == first_dose(easy)) is takes_easier
