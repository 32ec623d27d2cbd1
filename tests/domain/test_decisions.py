"""The action column: decisions move doses once, one step per exercise, within caps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.catalog import CatalogInfo
from api.domain.decisions import (
    Clearance,
    RoutineEntry,
    apply_steps,
    decision_keys,
    doses_in_force,
    plan_steps,
    prescribable,
    refusal,
    refuses_sessions,
    revert_steps,
    session_scope,
    starting_routine,
)
from api.domain.ladder import CatalogDose, first_dose, ladder, left_out, work
from api.domain.rule_table import RULES_BY_ID
from api.domain.types import Advice, Dose, Reason, SessionScope, Status

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
LAT = CatalogDose("lat-pulldown", 1, 5, 10, 3, 5, harder="wide-dumbbell-row")
ROW = CatalogDose("wide-dumbbell-row", 1, 10, 15, 3, 5, easier="lat-pulldown")
BRIDGE = CatalogDose("glute-bridge", 1, 5, 10, 2, 3)
LADDERS = {c.slug: c for c in (LAT, ROW, BRIDGE)}


def advice(*reasons: Reason, status: Status = "regress") -> Advice:
    return Advice(status, tuple(reasons), {}, "v2", NOW)


def reason(rule_id: str, status: Status, message: str = "", *slugs: str) -> Reason:
    return Reason(rule_id, status, message, {}, slugs, source="c1")


def routine(**doses: Dose) -> dict[str, RoutineEntry]:
    return {d.exercise_slug: RoutineEntry(d) for d in doses.values()}


def test_a_regress_steps_the_named_exercise_down_once() -> None:
    start = routine(lat=Dose("lat-pulldown", 1, 8, 3))
    p1 = Reason("P1", "regress", "", {}, ("lat-pulldown",), source="s1")
    steps, after = plan_steps(advice(p1), start, LADDERS, Clearance(), set())
    assert [(s.key, s.to_dose.reps) for s in steps] == [("P1:lat-pulldown:s1", 5)]
    assert after["lat-pulldown"].dose.reps == 5
    # The same evidence again: already applied, nothing moves.
    steps, again = plan_steps(advice(p1), after, LADDERS, Clearance(), decision_keys(advice(p1)))
    assert steps == [] and again == after


def test_one_step_per_exercise_however_many_reasons() -> None:
    start = routine(lat=Dose("lat-pulldown", 1, 10, 3))
    p1 = Reason("P1", "regress", "", {}, ("lat-pulldown",), source="s1")
    p2 = Reason("P2", "regress", "", {}, ("lat-pulldown",), source="s1")
    steps, after = plan_steps(advice(p1, p2), start, LADDERS, Clearance(), set())
    assert [s.moves for s in steps] == [True, False]  # both recorded, one moved
    assert after["lat-pulldown"].dose.reps == 8


def test_holds_and_maintains_move_nothing() -> None:
    start = routine(lat=Dose("lat-pulldown", 1, 8, 3))
    p3 = Reason("P3", "hold", "", {}, ("lat-pulldown",), source="s1")
    rf3 = Reason("RF3", "see_doctor", "", {}, (), source="c1")
    assert plan_steps(advice(p3, rf3), start, LADDERS, Clearance(), set()) == ([], start)


def test_a_cap_stops_the_ladder_and_a_regression_starts_below_it() -> None:
    start = routine(lat=Dose("lat-pulldown", 1, 10, 3))
    capped = Clearance(caps={"lat-pulldown": {"reps": 8}})
    p4 = Reason("P4", "progress", "", {}, ("lat-pulldown",), source="s2")
    steps, after = plan_steps(advice(p4), start, LADDERS, capped, set())
    assert [s.moves for s in steps] == [False] and after == start
    p1 = Reason("P1", "regress", "", {}, ("lat-pulldown",), source="s3")
    steps, after = plan_steps(advice(p1), start, LADDERS, capped, set())
    assert steps[0].from_dose.reps == 8 and after["lat-pulldown"].dose.reps == 5


def test_the_top_of_a_ladder_moves_to_the_harder_variation_only_if_cleared() -> None:
    top = Dose("lat-pulldown", 3, 10, 5)
    p4 = Reason("P4", "progress", "", {}, ("lat-pulldown",), source="s4")
    _, after = plan_steps(advice(p4), routine(lat=top), LADDERS, Clearance(), set())
    assert after["lat-pulldown"].active is False
    assert after["wide-dumbbell-row"] == RoutineEntry(first_dose(ROW), active=True)
    not_cleared = Clearance(cleared=frozenset({"lat-pulldown"}))
    _, held = plan_steps(advice(p4), routine(lat=top), LADDERS, not_cleared, set())
    assert held == routine(lat=top)


def test_undoing_restores_what_the_steps_changed() -> None:
    start = routine(lat=Dose("lat-pulldown", 3, 10, 5), bridge=Dose("glute-bridge", 1, 8, 2))
    p4 = Reason("P4", "progress", "", {}, ("glute-bridge", "lat-pulldown"), source="s5")
    steps, after = plan_steps(advice(p4), start, LADDERS, Clearance(), set())
    assert after != start
    restored = revert_steps(after, reversed(steps))
    assert {k: v for k, v in restored.items() if v.active} == start


def test_new_people_start_at_the_easiest_dose_without_warm_ups() -> None:
    catalog = {
        "lat-pulldown": CatalogInfo("lat-pulldown", "Lat", "strength", False, LAT),
        "wide-dumbbell-row": CatalogInfo("wide-dumbbell-row", "Row", "strength", False, ROW),
        "warm-up": CatalogInfo("warm-up", "Warm", "warmup", False, CatalogDose("warm-up")),
        "old": CatalogInfo("old", "Old", "strength", True, CatalogDose("old", 1, 5, 5)),
    }
    start = starting_routine(catalog, {})
    assert set(start) == {"lat-pulldown", "wide-dumbbell-row"}
    assert start["wide-dumbbell-row"].active is False  # waits for its easier variation
    assert doses_in_force(start, catalog, Clearance()) == (first_dose(LAT),)
    assert (
        Clearance(not_before={"lat-pulldown": date(2026, 7, 1)}).shows(
            "lat-pulldown", date(2026, 6, 30)
        )
        is False
    )


# --- session scope and refusal --------------------------------------------------------

RF1 = reason("RF1", "urgent_care", "Get emergency care now.")
RF2 = reason("RF2", "see_doctor", "See a doctor today; no exercise until then.")
RF2B = reason("RF2b", "see_doctor", "See a doctor within days; warm-up and stretches only.")
RF3 = reason("RF3", "see_doctor", "See a doctor about night pain.")
F2 = reason("F2", "see_doctor", "No improvement: a review.")
P1 = reason("P1", "regress", "Too painful: easier next time.", "lat-pulldown")
P3 = reason("P3", "hold", "Repeat the same dose.", "lat-pulldown")


@pytest.mark.parametrize(
    ("status", "found", "scope"),
    [
        ("urgent_care", (RF1,), "none"),
        ("urgent_care", (P1, RF1), "none"),
        ("urgent_care", (), "none"),  # the status alone refuses
        ("see_doctor", (RF2,), "none"),
        ("see_doctor", (RF2B, RF2), "none"),  # RF2 outranks RF2b's limited session
        ("see_doctor", (RF2B,), "warmup_and_stretches"),
        ("see_doctor", (RF2B, P1), "warmup_and_stretches"),
        ("see_doctor", (RF3,), "gentle"),
        ("see_doctor", (F2, P1), "gentle"),
        ("regress", (P1,), "full"),
        ("hold", (P3,), "full"),
        ("maintain", (), "full"),
        ("progress", (), "full"),
    ],
)
def test_session_scope(status: Status, found: tuple[Reason, ...], scope: SessionScope) -> None:
    a = advice(*found, status=status)
    assert session_scope(a) == scope
    assert refuses_sessions(a) is (scope == "none")


def test_refusal_gives_the_refusing_rules_message() -> None:
    assert refusal(advice(RF2, status="see_doctor")) == RF2.message
    assert refusal(advice(P1, RF1, status="urgent_care")) == RF1.message
    assert refusal(advice(RF2B, RF2, status="see_doctor")) == RF2.message
    # An urgent_care reason from any rule refuses in its own words.
    other = reason("X9", "urgent_care", "Call an ambulance.")
    assert refusal(advice(P1, other, status="urgent_care")) == other.message
    # No refusing reason: a general message, never a non-refusing rule's words.
    general = refusal(advice(status="urgent_care"))
    assert general and general != P1.message
    assert refusal(advice(P1, status="urgent_care")) == general


# --- left out (ruleset v2) ----------------------------------------------------------------


def test_prescribable_leaves_out_zero_set_and_inactive_doses_and_caps_the_rest() -> None:
    start = {
        "lat-pulldown": RoutineEntry(Dose("lat-pulldown", 2, 10, 5)),
        "glute-bridge": RoutineEntry(Dose("glute-bridge", 0, 3, 2)),  # left out
        "wide-dumbbell-row": RoutineEntry(first_dose(ROW), active=False),
    }
    capped = Clearance(caps={"lat-pulldown": {"sets": 1, "reps": 8}})
    assert prescribable(start, capped) == {"lat-pulldown": Dose("lat-pulldown", 1, 8, 5)}
    assert prescribable(start, Clearance()) == {"lat-pulldown": Dose("lat-pulldown", 2, 10, 5)}
    # The rules still judge a left-out exercise (they bring it back).
    catalog = {
        "lat-pulldown": CatalogInfo("lat-pulldown", "Lat", "strength", False, LAT),
        "glute-bridge": CatalogInfo("glute-bridge", "Bridge", "strength", False, BRIDGE),
        "wide-dumbbell-row": CatalogInfo("wide-dumbbell-row", "Row", "strength", False, ROW),
    }
    assert doses_in_force(start, catalog, Clearance()) == (
        Dose("glute-bridge", 0, 3, 2),
        Dose("lat-pulldown", 2, 10, 5),
    )


def test_a_regress_at_the_bottom_rung_leaves_the_exercise_out() -> None:
    bottom = ladder(LAT)[0]
    assert bottom == Dose("lat-pulldown", 1, 3, 3)
    p1 = Reason("P1", "regress", "", {}, ("lat-pulldown",), source="s1")
    steps, after = plan_steps(advice(p1), routine(lat=bottom), LADDERS, Clearance(), set())
    assert [(s.from_dose, s.to_dose) for s in steps] == [(bottom, Dose("lat-pulldown", 0, 3, 3))]
    assert after["lat-pulldown"] == RoutineEntry(Dose("lat-pulldown", 0, 3, 3), active=True)
    assert prescribable(after, Clearance()) == {}
    # Undoing the step brings the bottom rung back.
    assert revert_steps(after, reversed(steps)) == routine(lat=bottom)
    # Another regress of a left-out exercise is recorded but moves nothing.
    f1 = Reason("F1", "regress", "", {}, ("lat-pulldown",), source="2026-06-14")
    again, same = plan_steps(advice(f1), after, LADDERS, Clearance(), set())
    assert [(s.key, s.moves) for s in again] == [("F1:lat-pulldown:2026-06-14", False)]
    assert same == after


def test_floor_regression_walks_below_the_floor_before_leaving_out() -> None:
    # The catalog floor 1 x 5 x 3 s goes to 1 x 3 x 3 s, then left out.
    p1 = Reason("P1", "regress", "", {}, ("lat-pulldown",), source="s1")
    _, after = plan_steps(advice(p1), routine(lat=first_dose(LAT)), LADDERS, Clearance(), set())
    assert after["lat-pulldown"].dose == Dose("lat-pulldown", 1, 3, 3)


def test_a_progress_brings_a_left_out_exercise_back_at_the_bottom_rung() -> None:
    gone = Dose("lat-pulldown", 0, 3, 3)
    p4 = Reason("P4", "progress", "", {}, ("lat-pulldown",), source="s6")
    steps, after = plan_steps(advice(p4), routine(lat=gone), LADDERS, Clearance(), set())
    assert [(s.from_dose, s.to_dose) for s in steps] == [(gone, ladder(LAT)[0])]
    assert prescribable(after, Clearance()) == {"lat-pulldown": Dose("lat-pulldown", 1, 3, 3)}
    # Left out at an odd dose (an older ladder), it still comes back at the bottom rung.
    odd = Dose("lat-pulldown", 0, 7, 4)
    _, back = plan_steps(advice(p4), routine(lat=odd), LADDERS, Clearance(), set())
    assert back["lat-pulldown"].dose == ladder(LAT)[0]
    # ... unless a clinician's cap is below it: then it stays left out.
    capped = Clearance(caps={"lat-pulldown": {"reps": 2}})
    steps, held = plan_steps(advice(p4), routine(lat=gone), LADDERS, capped, set())
    assert [s.moves for s in steps] == [False] and held == routine(lat=gone)


def test_the_row_floor_regresses_to_the_lat_pulldown_which_is_less_work() -> None:
    row_floor = first_dose(ROW)
    p1 = Reason("P1", "regress", "", {}, ("wide-dumbbell-row",), source="s7")
    steps, after = plan_steps(advice(p1), routine(row=row_floor), LADDERS, Clearance(), set())
    assert steps[0].to_dose == first_dose(LAT) and work(first_dose(LAT)) < work(row_floor)
    assert after["wide-dumbbell-row"].active is False
    assert after["lat-pulldown"] == RoutineEntry(first_dose(LAT), active=True)


reasons = st.lists(
    st.builds(
        lambda rule, status, slugs, source: Reason(rule, status, "", {}, slugs, source=source),
        st.sampled_from(["P1", "P2", "F1", "P4", "P3", "V1"]),
        st.sampled_from(["progress", "hold", "regress", "see_doctor"]),
        st.lists(st.sampled_from(sorted(LADDERS)), max_size=3, unique=True).map(tuple),
        st.sampled_from(["s1", "s2", "2026-06-10"]),
    ),
    max_size=6,
)
doses = st.one_of(
    st.builds(
        lambda reps, sets: Dose("lat-pulldown", sets, reps, 3),
        st.sampled_from([5, 8, 10]),
        st.integers(1, 3),
    ),
    st.sampled_from([*ladder(LAT), Dose("lat-pulldown", 0, 3, 3)]),
)


@settings(max_examples=200, deadline=None)
@given(reasons, doses)
def test_each_exercise_moves_at_most_one_step_and_only_once(found: list[Reason], lat: Dose) -> None:
    start = routine(lat=lat, bridge=Dose("glute-bridge", 1, 5, 2))
    # The rules judge only exercises in use (decisions.doses_in_force): a reason never
    # names a variation that is not active yet.
    found = [
        replace(r, exercises=tuple(x for x in r.exercises if x in start and start[x].active))
        for r in found
    ]
    steps, after = plan_steps(advice(*found), start, LADDERS, Clearance(), set())
    moved = [s.exercise_slug for s in steps if s.moves]
    assert len(moved) == len(set(moved))
    assert len({s.key for s in steps}) == len(steps)
    assert apply_steps(start, steps) == after
    # Evaluated again with the ledger as it now is: nothing more moves.
    again, same = plan_steps(advice(*found), after, LADDERS, Clearance(), {s.key for s in steps})
    assert [s for s in again if s.moves] == [] and same == after
    for step in steps:
        if not step.moves or step.to_slug != step.exercise_slug:
            continue
        if RULES_BY_ID[step.rule_id].moves_dose == "down":
            # A step down is always less work, or leaves the exercise out.
            assert left_out(step.to_dose) or work(step.to_dose) < work(step.from_dose)
        else:
            assert not left_out(step.to_dose) and work(step.to_dose) > work(step.from_dose)


def test_one_flare_is_eased_once_even_when_its_first_day_moves_by_one() -> None:
    # A time-zone change (or a shifting baseline) moves the flare's first local day by
    # one: it is still the flare whose easing the ledger holds.
    start = routine(lat=Dose("lat-pulldown", 1, 10, 3))
    f1 = Reason("F1", "regress", "", {}, ("lat-pulldown",), source="2026-06-10")
    moved = Reason("F1", "regress", "", {}, ("lat-pulldown",), source="2026-06-11")
    later = Reason("F1", "regress", "", {}, ("lat-pulldown",), source="2026-06-12")
    applied = {"F1:lat-pulldown:2026-06-10"}
    assert "F1:lat-pulldown:2026-06-10" in decision_keys(advice(moved))
    assert plan_steps(advice(moved), start, LADDERS, Clearance(), applied) == ([], start)
    # A flare beginning two days later is another flare (an ordinary day ended the first).
    steps, _ = plan_steps(advice(later), start, LADDERS, Clearance(), applied)
    assert [s.moves for s in steps] == [True]
    # Rules keyed by a session or check-in have no neighbours.
    p1 = Reason("P1", "regress", "", {}, ("lat-pulldown",), source="2026-06-10")
    assert decision_keys(advice(p1)) == ["P1:lat-pulldown:2026-06-10"]
    steps, _ = plan_steps(advice(f1), start, LADDERS, Clearance(), applied)
    assert steps == []
