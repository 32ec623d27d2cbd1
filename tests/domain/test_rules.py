"""One table per rule of CLINICAL.md (ruleset v2): the data that fires it, the data just
below that does not, and the status, reasons and per-exercise actions that result.

Boundaries are tested on both sides (>= against >, 72 h, 7 and 14 days, 2 h, 3 days,
1 point...), so an off-by-one in a threshold comparison fails a test here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.domain.decisions import session_scope
from api.domain.ladder import CatalogDose
from api.domain.rules import RULESET_VERSION, evaluate
from api.domain.thresholds import DEFAULT_THRESHOLDS, Thresholds
from api.domain.types import Advice, CheckIn, Dose, History, LogEntry, Reason, SessionLog

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
_ids = itertools.count()

LAT = CatalogDose("lat-pulldown", 1, 5, 10, 3, 5, harder="wide-dumbbell-row", name="Lat Pulldown")
ROW = CatalogDose(
    "wide-dumbbell-row", 1, 10, 15, 3, 5, easier="lat-pulldown", name="Wide Dumbbell Row"
)
BRIDGE = CatalogDose("glute-bridge", 1, 5, 10, 2, 3, name="Glute Bridge")
CURL = CatalogDose("partial-curl", 1, 10, 15, 2, 2, name="Partial Curl")
HUG = CatalogDose("knee-hug", 1, 5, 5, 10, 15, name="Knee Hug")
CATALOG = {c.slug: c for c in (LAT, ROW, BRIDGE, CURL, HUG)}
LAT_DOSE = Dose("lat-pulldown", 1, 5, 3)
BRIDGE_DOSE = Dose("glute-bridge", 1, 5, 2)
CURL_DOSE = Dose("partial-curl", 1, 10, 2)
HUG_DOSE = Dose("knee-hug", 1, 5, 10)
ROUTINE = (LAT_DOSE, BRIDGE_DOSE, CURL_DOSE, HUG_DOSE)
SLUGS = sorted(d.exercise_slug for d in ROUTINE)


def at(days_ago: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    return NOW - timedelta(days=days_ago, hours=hours, seconds=seconds)


def ci(when: datetime, pain: int, phase: str = "daily", **kw: Any) -> CheckIn:
    return CheckIn(id=f"c{next(_ids)}", recorded_at=when, phase=phase, pain=pain, **kw)  # type: ignore[arg-type]


def flagged(when: datetime, *flags: str, pain: int = 2) -> CheckIn:
    return ci(when, pain, red_flags=frozenset(flags))


def assessment(
    when: datetime, assessed_at: datetime | None = None, by: str | None = "doctor", **kw: Any
) -> CheckIn:
    """A check-in recording that a professional assessed the person (ruleset v2)."""
    return ci(
        when,
        1,
        red_flags_resolved=True,
        assessed_by=by,
        assessed_at=when if assessed_at is None else assessed_at,
        **kw,
    )


def entry(
    dose: Dose,
    *,
    pain: int | None = 2,
    rpe: int | None = 5,
    reps: int | None = None,
    hold: int | None = None,
    skipped: bool = False,
) -> LogEntry:
    return LogEntry(
        exercise_slug=dose.exercise_slug,
        prescribed=dose,
        sets_completed=dose.sets,
        reps=tuple([reps if reps is not None else (dose.reps or 0)] * dose.sets),
        hold_seconds=hold if hold is not None else dose.hold_seconds,
        rpe=rpe,
        pain_during=pain,
        skipped=skipped,
    )


def session(
    start: datetime, *entries: LogEntry, sid: str | None = None, pain_after: int | None = None
) -> SessionLog:
    return SessionLog(
        session_id=sid or f"s{next(_ids)}",
        started_at=start,
        ended_at=start + timedelta(minutes=30),
        entries=tuple(entries),
        pain_after=pain_after,
    )


def check_messages(reasons: Iterable[Reason]) -> None:
    """Messages name exercises by their catalog names, never by slug, and every
    placeholder is filled."""
    for reason in reasons:
        for slug in CATALOG:
            assert slug not in reason.message, (reason.rule_id, reason.message)
        assert "{" not in reason.message and "}" not in reason.message, reason.message


def run(
    *checkins: CheckIn,
    logs: tuple[SessionLog, ...] = (),
    doses: tuple[Dose, ...] = ROUTINE,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    now: datetime = NOW,
    **history: Any,
) -> Advice:
    advice = evaluate(
        History(checkins=checkins, logs=logs, doses=doses, **history),
        now,
        thresholds=thresholds,
        catalog=CATALOG,
    )
    check_messages(advice.reasons)
    return advice


def rule_ids(advice: Advice) -> list[str]:
    """The rules that found something (M0 only says that none did; it is tested below)."""
    ids = [r.rule_id for r in advice.reasons]
    assert ("M0" in ids) == (ids == ["M0"]), ids  # alone, or not at all
    return [i for i in ids if i != "M0"]


def reason_of(advice: Advice, rule_id: str) -> Reason:
    found = [r for r in advice.reasons if r.rule_id == rule_id]
    assert len(found) == 1, (rule_id, advice.reasons)
    return found[0]


def all_actions(action: str, doses: Iterable[Dose] = ROUTINE) -> dict[str, str]:
    return {d.exercise_slug: action for d in doses}


def test_quiet_history_is_maintain() -> None:
    advice = run(ci(at(1), 2), ci(at(0), 2))
    assert advice.status == "maintain"
    # Nothing fired, and the advice says so, with what it stood on.
    [steady] = advice.reasons
    assert (steady.rule_id, steady.status, steady.exercises) == ("M0", "maintain", ())
    assert steady.evidence == {"latest_rest_pain": 2, "sessions_last_7_days": 0}
    assert "same doses" in steady.message
    assert advice.exercises == all_actions("maintain")
    assert advice.ruleset_version == RULESET_VERSION == "v2"
    assert advice.evaluated_at == NOW
    assert advice.stale is False
    assert session_scope(advice) == "full"


def test_silence_is_not_reported_as_nothing_to_change() -> None:
    """M0 with no recent check-in asks for one rather than reassuring (principle 2)."""
    for advice in (run(), run(ci(at(5), 2), ci(at(4), 2))):  # no data; none in 72 h
        [quiet] = advice.reasons
        assert (quiet.rule_id, advice.status, advice.stale) == ("M0", "maintain", True)
        assert "record how your back is today" in quiet.message
        assert "calls for a change" not in quiet.message


# --- RF1 ---------------------------------------------------------------------------------

CAUDA = ["saddle_numbness", "bladder_bowel_change", "both_legs", "progressive_weakness",
         "sexual_dysfunction"]  # fmt: skip


@pytest.mark.parametrize("flag", CAUDA)
def test_rf1_each_cauda_equina_flag_is_urgent(flag: str) -> None:
    advice = run(ci(at(1), 2), flagged(at(0), flag, pain=1))
    assert advice.status == "urgent_care"
    assert rule_ids(advice) == ["RF1"]
    reason = advice.reasons[0]
    assert reason.status == "urgent_care"
    assert reason.evidence["flags"] == [flag]
    assert "emergency" in reason.message and "Stop exercising" in reason.message
    assert "who assessed you" in reason.message
    assert advice.exercises == all_actions("stop")
    assert session_scope(advice) == "none"


def test_rf1_just_below_an_answered_no_or_another_group_is_not_urgent() -> None:
    denied = run(ci(at(0), 1, denied=frozenset(CAUDA)))
    assert (denied.status, rule_ids(denied)) == ("maintain", [])
    other = run(flagged(at(0), "fever_or_unwell", "night_pain"))
    assert "RF1" not in rule_ids(other)
    assert other.status == "see_doctor"


def test_rf1_is_not_cleared_by_feeling_better_or_a_bare_resolution() -> None:
    flag = flagged(at(3), "saddle_numbness")
    for later in (
        ci(at(1), 0),  # feeling better
        ci(at(1), 0, red_flags_resolved=True),  # v1's bare statement
        ci(at(1), 0, red_flags_resolved=True, assessed_by="doctor"),  # no when
        ci(at(1), 0, red_flags_resolved=True, assessed_at=at(2)),  # no who
        ci(at(1), 0, assessed_by="doctor", assessed_at=at(2)),  # not a resolution
        # A resolution that still reports a flag resolves nothing.
        assessment(at(1), at(2), red_flags=frozenset({"fever_or_unwell"})),
    ):
        advice = run(flag, later)
        assert advice.status == "urgent_care", later
        assert rule_ids(advice)[0] == "RF1"


@pytest.mark.parametrize("by", ["emergency_department", "doctor", "physiotherapist"])
def test_rf1_is_cleared_by_an_assessment_after_the_flag(by: str) -> None:
    flag = flagged(at(3), "saddle_numbness")
    advice = run(flag, assessment(at(1), at(2), by=by))
    assert (advice.status, rule_ids(advice)) == ("maintain", [])
    assert advice.exercises == all_actions("maintain")


@pytest.mark.parametrize(
    ("assessed_at", "recorded_at", "clears"),
    [
        (at(3), at(1), True),  # assessed at the very moment of the flag: at or after
        (at(3, seconds=1), at(1), False),  # assessed a second before the flag
        (at(3), at(3), False),  # recorded at the flag's moment: not after it
        (at(3), at(3, seconds=-1), True),  # recorded a second after it
    ],
)
def test_rf1_assessment_boundaries(
    assessed_at: datetime, recorded_at: datetime, clears: bool
) -> None:
    flag = flagged(at(3), "both_legs")
    advice = run(flag, assessment(recorded_at, assessed_at))
    assert ("RF1" not in rule_ids(advice)) is clears


def test_rf1_an_assessment_before_the_flag_does_not_clear_it() -> None:
    advice = run(assessment(at(5), at(5)), flagged(at(3), "both_legs"), ci(at(0), 1))
    assert advice.status == "urgent_care"
    # A new flag after an assessment stands again.
    again = run(flagged(at(6), "both_legs"), assessment(at(4)), flagged(at(2), "saddle_numbness"))
    assert rule_ids(again) == ["RF1"]
    assert again.reasons[0].evidence["flags"] == ["saddle_numbness"]


def test_a_flag_synced_late_is_not_cleared_by_an_earlier_record() -> None:
    # Reported offline at day 3, uploaded after an assessment the server got at day 1.
    late = ci(at(3), 2, red_flags=frozenset({"saddle_numbness"}), received_at=at(0))
    early = assessment(at(1), at(2), received_at=at(1))
    assert run(late, early).status == "urgent_care"
    # Arrived at the same moment as the flag: cleared.
    same = assessment(at(1), at(2), received_at=at(0))
    assert run(late, same).status == "maintain"
    # Recorded after the server had the flag: cleared.
    assert run(late, early, assessment(at(0))).status == "maintain"


def test_rf1_older_than_the_window_is_not_forgotten() -> None:
    ancient = flagged(at(400), "both_legs")
    advice = run(ci(at(0), 1), last_cauda_equina=ancient)
    assert (advice.status, rule_ids(advice)) == ("urgent_care", ["RF1"])
    assert advice.reasons[0].evidence["checkin_id"] == ancient.id
    # A clinician's resolution (or a stored assessment) after it clears it...
    cleared = run(ci(at(0), 1), last_cauda_equina=ancient, last_assessment=assessment(at(300)))
    assert cleared.status == "maintain"
    # ...one before it does not.
    before = run(ci(at(0), 1), last_cauda_equina=ancient, last_assessment=assessment(at(401)))
    assert before.status == "urgent_care"


# --- RF2, RF2b ---------------------------------------------------------------------------

RF2_CASES = [
    ("fever_or_unwell", "RF2", "today", "none"),
    ("significant_trauma", "RF2", "today", "none"),
    ("unexplained_weight_loss", "RF2b", "within the next few days", "warmup_and_stretches"),
    ("cancer_history", "RF2b", "within the next few days", "warmup_and_stretches"),
]


@pytest.mark.parametrize(("flag", "rule", "when", "scope"), RF2_CASES)
def test_rf2_and_rf2b_serious_cause_flags(flag: str, rule: str, when: str, scope: str) -> None:
    advice = run(flagged(at(1), flag), ci(at(0), 2))
    assert advice.status == "see_doctor"
    assert rule_ids(advice) == [rule]
    assert advice.reasons[0].evidence["flags"] == [flag]
    assert when in advice.reasons[0].message and "doctor" in advice.reasons[0].message
    # No progression while a doctor's view is pending: every exercise holds.
    assert advice.exercises == all_actions("hold")
    assert session_scope(advice) == scope
    # Just below: answered "no".
    assert run(ci(at(0), 2, denied=frozenset({flag}))).status == "maintain"


@pytest.mark.parametrize(("flag", "rule", "when", "scope"), RF2_CASES)
def test_rf2_and_rf2b_stand_until_an_assessment(
    flag: str, rule: str, when: str, scope: str
) -> None:
    last = {"RF2": "last_infection_or_fracture", "RF2b": "last_cancer_concern"}[rule]
    old = flagged(at(60), flag)
    beyond: dict[str, Any] = {last: old}
    assert rule_ids(run(ci(at(0), 1), **beyond)) == [rule]
    bare = run(flagged(at(3), flag), ci(at(1), 2, red_flags_resolved=True))
    assert rule_ids(bare) == [rule]
    cleared = run(flagged(at(3), flag), assessment(at(1), at(2)))
    assert (cleared.status, rule_ids(cleared)) == ("maintain", [])
    by_clinician = run(ci(at(0), 1), last_assessment=assessment(at(59)), **beyond)
    assert by_clinician.status == "maintain"


def test_each_red_flag_group_is_judged_against_its_own_latest_flag() -> None:
    # The assessment follows the fever but not the later bladder change.
    fever = flagged(at(5), "fever_or_unwell")
    seen = assessment(at(4))
    cauda = flagged(at(2), "bladder_bowel_change")
    weight = flagged(at(1), "unexplained_weight_loss")
    advice = run(fever, seen, cauda, weight)
    assert rule_ids(advice) == ["RF1", "RF2b"]
    assert advice.status == "urgent_care"
    assert advice.exercises == all_actions("stop")


# --- RF3 ---------------------------------------------------------------------------------


def night_flag_stands(advice: Advice) -> bool:
    return any(r.rule_id == "RF3" and "at night" in r.message for r in advice.reasons)


def test_rf3_night_pain_stands_until_a_later_rest_check_in_says_no() -> None:
    night = flagged(at(2), "night_pain", pain=6)
    advice = run(night)
    assert (advice.status, rule_ids(advice)) == ("see_doctor", ["RF3"])
    assert "night" in advice.reasons[0].message
    assert advice.exercises == all_actions("hold")
    assert session_scope(advice) == "gentle"
    no = frozenset({"night_pain"})
    # Not answering says nothing; pain at the threshold, a session check-in or the same
    # moment as the flag do not clear it.
    for later in (
        ci(at(1), 2),
        ci(at(1), 8, denied=no),
        ci(at(1), 2, phase="before", denied=no),
        ci(at(2), 2, denied=no),
    ):
        assert night_flag_stands(run(night, later)), later
    for later in (ci(at(1), 7, denied=no), ci(at(1), 5, phase="next_morning", denied=no)):
        assert rule_ids(run(night, later)) == [], later
    assert rule_ids(run(night, assessment(at(1), phase="before"))) == []


def test_rf3_night_pain_older_than_the_window_is_not_forgotten() -> None:
    old = flagged(at(100), "night_pain")
    assert rule_ids(run(ci(at(0), 2), last_night_pain=old)) == ["RF3"]


@pytest.mark.parametrize(
    ("pain", "phase", "fires"),
    [
        (8, "daily", True),
        (10, "next_morning", True),
        (7, "daily", False),
        (9, "before", False),  # v2: `before` is not rest pain
        (9, "during", False),
        (9, "after", False),
    ],
)
def test_rf3_rest_pain_eight_to_ten(pain: int, phase: str, fires: bool) -> None:
    advice = run(ci(at(1), 2), ci(at(0), pain, phase=phase))
    assert ("RF3" in rule_ids(advice)) is fires
    if fires:
        reason = reason_of(advice, "RF3")
        assert advice.status == "see_doctor"
        assert (reason.evidence["pain"], reason.evidence["threshold"]) == (pain, 8)
        assert f"({pain} out of 10)" in reason.message and "below 8 again" in reason.message
        assert "progress" not in advice.exercises.values()


def test_rf3_rest_pain_stands_until_a_later_rest_check_in_is_below_it() -> None:
    assert "RF3" in rule_ids(run(ci(at(2), 9), ci(at(1), 4, phase="after")))
    assert "RF3" not in rule_ids(run(ci(at(2), 9), ci(at(1), 7)))
    # The latest rest-pain check-in ever, however long ago, stands.
    assert rule_ids(run(ci(at(0), 3, phase="during"), last_rest=ci(at(90), 9))) == ["RF3"]
    assert "RF3" not in rule_ids(run(ci(at(0), 3), last_rest=ci(at(90), 9)))


def test_rf3_threshold_is_tunable_down_only() -> None:
    tuned = DEFAULT_THRESHOLDS.with_overrides({"rest_pain_doctor": 6})
    fired = run(ci(at(0), 6), thresholds=tuned)
    assert rule_ids(fired) == ["RF3"]
    assert "below 6 again" in fired.reasons[0].message
    assert "RF3" not in rule_ids(run(ci(at(0), 5), thresholds=tuned))


# --- RF4 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "symptom",
    [
        {"radiating_below_knee": True},
        {"leg_numbness": True},
        {"locations": frozenset({"left_calf"})},
        {"locations": frozenset({"right_foot", "lower_back"})},
    ],
)
def test_rf4_new_leg_symptom_holds_progression(symptom: dict[str, Any]) -> None:
    advice = run(ci(at(1), 2), ci(at(0), 3, **symptom))
    assert (advice.status, rule_ids(advice)) == ("hold", ["RF4"])
    reason = advice.reasons[0]
    assert "which is new" in reason.message
    assert "doctor or physiotherapist" in reason.message and "emergency" in reason.message
    assert advice.exercises == all_actions("maintain")


@pytest.mark.parametrize(
    "quiet",
    [
        {},
        {"radiating_below_knee": False, "leg_numbness": False},
        {"locations": frozenset({"lower_back", "buttock"})},
    ],
)
def test_rf4_just_below_no_leg_symptom(quiet: dict[str, Any]) -> None:
    assert rule_ids(run(ci(at(0), 3, **quiet))) == []


def test_rf4_is_new_against_the_fourteen_days_before() -> None:
    no: dict[str, Any] = {"radiating_below_knee": False}
    knee: dict[str, Any] = {"radiating_below_knee": True}
    # Back after a "no": new again, whatever came before the "no" (fail safe).
    back = run(ci(at(14), 2, **knee), ci(at(10), 2, **no), ci(at(0), 2, **knee))
    assert rule_ids(back) == ["RF4"]
    assert back.reasons[0].evidence["checkin_id"] == back.reasons[0].source
    # Without a "no", the onset stands; a report with another within the 14 days before it
    # adds nothing, one with none is new against its own 14 days and becomes the onset.
    first = ci(at(20), 2, **knee)
    near = run(first, ci(at(10), 2, **knee))
    assert rule_ids(near) == ["RF4"] and near.reasons[0].source == first.id
    late = ci(at(0), 2, **knee)
    assert run(first, ci(at(10), 2, **knee), late).reasons[0].source == first.id
    assert run(first, late).reasons[0].source == late.id
    # A leg place reported exactly 14 days before is not new; a second longer ago, it is.
    calf = frozenset({"left-calf"})
    same = run(
        ci(at(14), 2, locations=calf), ci(at(13), 2, **no), ci(at(0), 2, **knee, locations=calf)
    )
    assert same.reasons[0].evidence["new"] == ["below_knee", "left-calf"]


def test_rf4_spreading_and_what_clears_it() -> None:
    knee = ci(at(3), 2, radiating_below_knee=True)
    spread = ci(at(1), 2, radiating_below_knee=True, locations=frozenset({"left_foot"}))
    advice = run(knee, spread)
    assert rule_ids(advice) == ["RF4"]
    assert "spread" in advice.reasons[0].message
    assert advice.reasons[0].evidence["new"] == ["left_foot"]
    # Stands while later check-ins do not answer, or still report a leg symptom...
    assert rule_ids(run(knee, ci(at(0), 1))) == ["RF4"]
    still = ci(at(0), 1, radiating_below_knee=False, leg_numbness=True)
    assert rule_ids(run(ci(at(3), 2, radiating_below_knee=True, leg_numbness=True), still)) == [
        "RF4"
    ]
    # ...and ends on an explicit "no" with no leg symptom.
    assert rule_ids(run(knee, ci(at(0), 1, radiating_below_knee=False))) == []


# --- F1 ----------------------------------------------------------------------------------


def daily(pain: int, days: Iterable[int]) -> list[CheckIn]:
    return [ci(at(d), pain) for d in days]


BASE = range(7, 21)  # the 14 days before the last 7


def f1(advice: Advice) -> Reason:
    return reason_of(advice, "F1")


@pytest.mark.parametrize(
    ("recent", "fires"),
    [
        ((2, 2, 2, 2, 2, 2, 2), True),  # baseline 0: +2 points
        ((2, 2, 2, 2, 2, 2, 1), False),  # +1.86: 30% of 0 is no amount, 2 points needed
        ((1, 1, 1, 1, 1, 1, 1), False),
    ],
)
def test_f1_two_points_over_a_baseline_of_zero(recent: tuple[int, ...], fires: bool) -> None:
    history = [ci(at(d), p) for d, p in zip(range(6, -1, -1), recent, strict=True)]
    advice = run(*daily(0, BASE), *history)
    assert ("F1" in rule_ids(advice)) is fires
    if fires:
        assert f1(advice).evidence["baseline_mean"] == 0
        assert f1(advice).evidence["baseline_from"] == "14_days"


def test_f1_two_points_where_thirty_percent_is_more() -> None:
    # Baseline 7: 30% is 2.1, so a rise of exactly 2 fires by the 2-point criterion.
    assert "F1" in rule_ids(run(*daily(7, BASE), *daily(9, (2, 1, 0))))
    # +1.67 is neither.
    assert "F1" not in rule_ids(run(*daily(7, BASE), *daily(9, (2, 1)), ci(at(0), 7)))


@pytest.mark.parametrize(
    ("recent", "fires"),
    [
        ((6, 7, 6, 7), True),  # baseline 5, mean 6.5: +30% and +1.5
        ((6, 7, 6, 6), False),  # mean 6.25: +25%
    ],
)
def test_f1_thirty_percent(recent: tuple[int, ...], fires: bool) -> None:
    history = [ci(at(d), p) for d, p in zip((3, 2, 1, 0), recent, strict=True)]
    advice = run(*daily(5, BASE), *history)
    assert ("F1" in rule_ids(advice)) is fires
    if fires:
        assert f1(advice).evidence["rise"] == 1.5


@pytest.mark.parametrize(
    ("today", "fires"),
    [
        ((3, 3, 3, 3, 3), True),  # baseline 2: +1 point, +50%
        ((3, 3, 3, 3, 2), False),  # +0.8: 40%, but under 1 point
    ],
)
def test_f1_thirty_percent_needs_a_whole_point(today: tuple[int, ...], fires: bool) -> None:
    readings = [ci(at(0, hours=h), p) for h, p in zip(range(5), today, strict=True)]
    advice = run(*daily(2, BASE), *readings)
    assert ("F1" in rule_ids(advice)) is fires


@pytest.mark.parametrize(
    ("low_day", "low", "fires"),
    [
        (6, 3, True),  # 3 points up within 7 days
        (6, 4, False),  # 2 points
        (7, 3, False),  # 3 points, but 7 days before: outside the 7 days
    ],
)
def test_f1_three_point_jump_within_seven_days(low_day: int, low: int, fires: bool) -> None:
    # Baseline 6: the means never rise, only the jump can fire.
    base = [ci(at(d), 6) for d in BASE if d != low_day]
    advice = run(*base, ci(at(low_day), low), ci(at(0), 6))
    assert ("F1" in rule_ids(advice)) is fires
    if fires:
        reason = f1(advice)
        assert reason.evidence["rise_within_7_days"] == 3
        assert reason.status == "regress"
        assert advice.exercises == all_actions("regress")
        # Said as a quick rise, not as pain above the usual level.
        assert "rose by 3 points within a few days" in reason.message
        assert "usual level" not in reason.message
        assert "eased back a step" in reason.message


def test_f1_a_jump_that_stays_up_three_days_means_see_a_doctor() -> None:
    # Baseline 5; pain 2 six days ago, then 7 for three days: up 5 within 7 days, while
    # the 7-day mean on the first raised day (4.75) is no rise over the baseline.
    base = [ci(at(d), 5) for d in range(9, 21)]
    advice = run(*base, ci(at(6), 2), *daily(7, (2, 1, 0)))
    assert (advice.status, rule_ids(advice)) == ("see_doctor", ["F1"])
    reason = f1(advice)
    assert reason.evidence["days_lasted"] == 3
    assert "rose by 5 points within a few days" in reason.message
    assert "contact your doctor or physiotherapist now" in reason.message
    assert advice.exercises == all_actions("regress")


def test_f1_baseline_needs_two_days_else_the_first_readings_ever() -> None:
    first = tuple(ci(at(300) + timedelta(hours=h), 6) for h in range(3))
    # Two baseline days (pain 2): a rise of 2 over them.
    two = run(ci(at(9), 2), ci(at(8), 2), ci(at(0), 4), first_rest=first)
    assert "F1" in rule_ids(two)
    assert f1(two).evidence["baseline_from"] == "14_days"
    # One baseline day: the first readings ever (6) are the baseline; 4 is no rise.
    assert "F1" not in rule_ids(run(ci(at(9), 2), ci(at(0), 4), first_rest=first))


@pytest.mark.parametrize(("oldest", "fires"), [(20, True), (21, False)])
def test_f1_baseline_is_the_fourteen_days_before_the_seven(oldest: int, fires: bool) -> None:
    # Baseline days 7-20 back: with two of them (pain 2), 4 is a rise of 2; with one, the
    # first readings ever (6) are the baseline.
    first = tuple(ci(at(300) + timedelta(hours=h), 6) for h in range(3))
    advice = run(ci(at(oldest), 2), ci(at(8), 2), ci(at(0), 4), first_rest=first)
    assert ("F1" in rule_ids(advice)) is fires


def test_f1_first_readings_are_the_first_three() -> None:
    first = tuple(ci(at(300) + timedelta(hours=h), p) for h, p in enumerate((1, 1, 4, 9)))
    advice = run(ci(at(0), 4), first_rest=first)
    assert f1(advice).evidence["baseline_mean"] == 2


def test_f1_first_readings_baseline_for_a_new_user() -> None:
    # The first three readings ever (the fourth does not count) are the baseline: 1.
    first = tuple(ci(at(300) + timedelta(hours=h), p) for h, p in enumerate((1, 1, 1, 9)))
    advice = run(ci(at(0), 3), first_rest=first)
    assert "F1" in rule_ids(advice)
    assert f1(advice).evidence["baseline_from"] == "first_readings"
    assert f1(advice).evidence["baseline_mean"] == 1
    assert "about 1 out of 10" in f1(advice).message
    # Just below: 1.5 is half a point up.
    assert "F1" not in rule_ids(run(ci(at(0), 1), ci(at(0, hours=1), 2), first_rest=first))
    # Without stored first readings, the window's first three.
    new = [ci(at(3, hours=h), 1) for h in range(3)]
    assert "F1" in rule_ids(run(*new, *daily(3, (2, 1, 0))))
    assert "F1" not in rule_ids(run(*new, *daily(2, (2, 1, 0))))


@pytest.mark.parametrize(
    ("days", "status", "key"),
    [((1, 0), "regress", "new"), ((2, 1, 0), "see_doctor", "lasting")],
)
def test_f1_regresses_then_sees_a_doctor_at_three_days(
    days: tuple[int, ...], status: str, key: str
) -> None:
    # Baseline 0 on days 9-22 (outside every window of the raised days), then pain 2.
    advice = run(*daily(0, range(9, 23)), *daily(2, days))
    assert (advice.status, rule_ids(advice)) == (status, ["F1"])
    reason = f1(advice)
    assert reason.evidence["days_lasted"] == len(days)
    assert reason.source == at(days[0]).date().isoformat()
    assert reason.exercises == tuple(SLUGS)
    # A flare eases every exercise back (see_doctor too): F1 moves doses down.
    assert advice.exercises == all_actions("regress")
    assert "flare" in reason.message and "gently" in reason.message
    assert at(days[0]).date().isoformat() in reason.message
    if key == "new":
        assert "eased back a step" in reason.message
    else:
        assert "contact your doctor or physiotherapist now" in reason.message


def test_f1_days_for_a_doctor_is_tunable() -> None:
    tuned = DEFAULT_THRESHOLDS.with_overrides({"flare_days_for_doctor": 2})
    advice = run(*daily(0, BASE), *daily(3, (1, 0)), thresholds=tuned)
    assert advice.status == "see_doctor"


def test_f1_stands_through_silence() -> None:
    # A flare five days ago and no check-in since: it has lasted to today.
    advice = run(*daily(2, range(12, 26)), ci(at(5), 5))
    assert advice.status == "see_doctor"
    assert f1(advice).evidence["days_lasted"] == 6
    # Long silence: the evidence window ends at the latest data, not at now.
    later = run(*daily(2, range(12, 26)), ci(at(5), 5), now=NOW + timedelta(days=60))
    assert rule_ids(later) == ["F1"]


@pytest.mark.parametrize(
    ("later", "stands", "lasted"),
    [
        ((3, 3, 3), False, None),  # 3-day mean 3: within 1 point of baseline 2
        ((3, 3, 4), True, 7),  # mean 3.33: still raised, latest raised: to today
        ((3, 4, 3), True, 5),  # latest not raised: lasted to the last raised day
        ((3, 3), True, 1),  # two later days are not three
        ((5, 3, 3, 3), False, None),  # the latest three days count
    ],
)
def test_f1_ends_on_a_three_day_mean_within_a_point(
    later: tuple[int, ...], stands: bool, lasted: int | None
) -> None:
    # Baseline 2 (days 13-26), a flare on day 6 (pain 5), then the later readings.
    days = range(len(later), 0, -1)
    readings = [ci(at(d), p) for d, p in zip(days, later, strict=True)]
    advice = run(*daily(2, range(13, 27)), ci(at(6), 5), *readings)
    assert ("F1" in rule_ids(advice)) is stands
    if stands:
        assert f1(advice).evidence["flare_began"] == at(6).date().isoformat()
        assert f1(advice).evidence["days_lasted"] == lasted


def test_f1_the_first_day_of_a_flare_is_not_one_of_the_later_days() -> None:
    # Baseline 6; a jump from 3 to 6 starts a flare on day 2; days 1 and 0 (7) are two
    # later days, not three, so it stands (with the first day, the mean would be 6.67).
    base = [ci(at(d), 6) for d in range(9, 21)]
    advice = run(*base, ci(at(5), 3), ci(at(2), 6), *daily(7, (1, 0)))
    assert rule_ids(advice) == ["F1"]
    assert f1(advice).evidence["flare_began"] == at(2).date().isoformat()


def test_f1_keeps_one_key_for_one_flare() -> None:
    flare = [ci(at(d), 6) for d in range(9)]
    sources = set()
    for shift in range(4):
        later = evaluate(
            History(checkins=(*daily(2, range(9, 24)), *flare), doses=ROUTINE),
            NOW + timedelta(days=shift),
            catalog=CATALOG,
        )
        sources |= {r.source for r in later.reasons if r.rule_id == "F1"}
    assert sources == {at(8).date().isoformat()}


def test_f1_falling_pain_of_a_new_user_is_no_flare() -> None:
    # A day is never its own baseline, and a later reading never moves an earlier day's.
    assert rule_ids(run(ci(at(2), 6), ci(at(1), 2), ci(at(0), 2))) == []
    assert rule_ids(run(ci(at(0, hours=2), 6), ci(at(0, hours=1), 2), ci(at(0), 2))) == []
    # A rise of 2 over the first reading is judged against that reading alone.
    assert rule_ids(run(ci(at(8), 4), ci(at(0), 6))) == ["F1"]


def test_f1_reads_rest_pain_only() -> None:
    session_pain = [ci(at(d), 6, phase=p) for d in (1, 0) for p in ("before", "after")]
    assert "F1" not in rule_ids(run(*daily(1, BASE), *session_pain))


# --- F2 ----------------------------------------------------------------------------------


def weeks(*means: float, days: tuple[int, ...] = (0,), end: int = 0) -> list[CheckIn]:
    """Check-ins on `days` of each of the last weeks (oldest week first), ending `end`
    days ago. A fractional mean is made of two check-ins on the same day."""
    out = []
    for index, mean in enumerate(reversed(means)):
        for d in days:
            when = at(end + 7 * index + d)
            low = int(mean)
            if mean == low:
                out.append(ci(when, low))
            else:  # x.5
                out += [ci(when - timedelta(hours=1), low), ci(when, low + 1)]
    return out


def test_f2_one_check_in_a_week_for_four_weeks() -> None:
    advice = run(*weeks(5, 5, 5, 5))
    assert (advice.status, rule_ids(advice)) == ("see_doctor", ["F2"])
    reason = advice.reasons[0]
    assert reason.evidence["weekly_means"] == [5.0, 5.0, 5.0, 5.0]
    # One review, keyed by the first day of its 4 weeks.
    assert reason.source == at(27).date().isoformat()
    assert "last 4 weeks" in reason.message
    assert advice.exercises == all_actions("hold")
    assert session_scope(advice) == "gentle"


@pytest.mark.parametrize(("oldest", "fires"), [(27, True), (28, False)])
def test_f2_needs_a_check_in_in_each_week(oldest: int, fires: bool) -> None:
    # The fourth week is days 21-27 before the latest: a check-in on day 28 is too old.
    advice = run(*daily(5, (0, 7, 14)), ci(at(oldest), 5))
    assert ("F2" in rule_ids(advice)) is fires


def test_f2_is_anchored_at_the_latest_rest_day() -> None:
    # Ten silent days: the review stays due.
    assert rule_ids(run(*weeks(5, 5, 5, 5, end=10))) == ["F2"]
    # Session pain in the silence moves nothing.
    assert rule_ids(run(*weeks(5, 5, 5, 5, end=10), ci(at(0), 2, phase="after"))) == ["F2"]


@pytest.mark.parametrize(
    ("means", "fires"),
    [
        ((7, 7, 7, 5.5), True),  # 1.5 points: under 2 points and under 30% (2.1)
        ((7, 7, 7, 5), False),  # 2 points better
        ((6, 6, 5, 5), True),
        ((4, 4, 4, 4), True),  # latest mean 4
        ((4, 4, 4, 3.5), False),  # latest mean under 4
        ((3, 5, 5, 4), True),  # worse than the first week is no improvement
    ],
)
def test_f2_improvement_and_level(means: tuple[float, ...], fires: bool) -> None:
    assert ("F2" in rule_ids(run(*weeks(*means)))) is fires


@pytest.mark.parametrize(("latest", "fires"), [(3.5, False), (4, True)])
def test_f2_thirty_percent_is_an_improvement(latest: float, fires: bool) -> None:
    # A clinician lowered the level to 2: first week 5, latest 3.5 is 30% (1.5 points).
    tuned = DEFAULT_THRESHOLDS.with_overrides({"review_min_mean": 2})
    advice = run(*weeks(5, 5, 5, latest), thresholds=tuned)
    assert ("F2" in rule_ids(advice)) is fires


def test_f2_weeks_are_tunable() -> None:
    tuned = DEFAULT_THRESHOLDS.with_overrides({"review_weeks": 2})
    advice = run(*weeks(5, 5), thresholds=tuned)
    assert rule_ids(advice) == ["F2"]
    assert "last 2 weeks" in advice.reasons[0].message
    assert rule_ids(run(*weeks(5, 5))) == []


def test_f2_is_not_weakened_by_tuning_the_flare_thresholds() -> None:
    tuned = DEFAULT_THRESHOLDS.with_overrides({"flare_points": 1, "flare_fraction": 0.1})
    assert "F2" in rule_ids(run(*weeks(6, 6, 6, 5)))
    assert "F2" in rule_ids(run(*weeks(6, 6, 6, 5), thresholds=tuned))


# --- P1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pain", "rule", "action"),
    [(6, "P1", "regress"), (5, "P3", "hold"), (4, "P3", "hold"), (3, None, "maintain")],
)
def test_pain_during_an_exercise(pain: int, rule: str | None, action: str) -> None:
    log = session(at(1), entry(LAT_DOSE, pain=pain), entry(BRIDGE_DOSE, pain=1))
    advice = run(logs=(log,))
    assert rule_ids(advice) == ([rule] if rule else [])
    assert advice.exercises == {**all_actions("maintain"), "lat-pulldown": action}
    assert advice.status == {"regress": "regress", "hold": "hold", "maintain": "maintain"}[action]
    if rule == "P1":
        reason = advice.reasons[0]
        assert reason.exercises == ("lat-pulldown",)
        assert "Pain during Lat Pulldown reached 6 out of 10" in reason.message
        assert "above the limit of 5" in reason.message
        assert "Lat Pulldown is eased back a step" in reason.message
    if rule == "P3":
        assert f"Pain during Lat Pulldown was {pain} out of 10" in advice.reasons[0].message


@pytest.mark.parametrize(("pain_after", "rule"), [(6, "P1"), (5, "P3"), (3, None)])
def test_pain_after_in_the_log_counts_for_the_sessions_exercises(
    pain_after: int, rule: str | None
) -> None:
    log = session(
        at(1),
        entry(LAT_DOSE, pain=1),
        entry(BRIDGE_DOSE, pain=1),
        entry(CURL_DOSE, skipped=True),
        pain_after=pain_after,
    )
    advice = run(logs=(log,))
    assert rule_ids(advice) == ([rule] if rule else [])
    if rule is None:
        return
    reason = advice.reasons[0]
    assert reason.exercises == ("glute-bridge", "lat-pulldown")
    action = {"P1": "regress", "P3": "hold"}[rule]
    expected = {**all_actions("maintain"), "glute-bridge": action, "lat-pulldown": action}
    assert advice.exercises == expected
    if rule == "P1":
        assert f"right after your session reached {pain_after} out of 10" in reason.message
        assert "Glute Bridge and Lat Pulldown are eased back a step" in reason.message
    else:
        assert f"right after your session was {pain_after} out of 10" in reason.message
        assert "doses of Glute Bridge and Lat Pulldown" in reason.message


@pytest.mark.parametrize(
    ("after_end", "exercises"),
    [
        (timedelta(0), ("glute-bridge", "lat-pulldown")),
        (timedelta(hours=2), ("glute-bridge", "lat-pulldown")),
        (timedelta(hours=2, seconds=1), tuple(SLUGS)),  # no session's: the whole routine
        # Before the session ended: a lone check-in, superseded by the session's own
        # (later) pain for the exercises done in it.
        (-SECOND, ("knee-hug", "partial-curl")),
    ],
)
def test_an_untagged_after_check_in_within_two_hours_counts_for_the_session(
    after_end: timedelta, exercises: tuple[str, ...]
) -> None:
    log = session(at(1), entry(LAT_DOSE, pain=1), entry(BRIDGE_DOSE, pain=1))
    advice = run(ci(log.ended_at + after_end, 6, phase="after"), logs=(log,))
    assert rule_ids(advice) == ["P1"]
    assert advice.reasons[0].exercises == exercises
    assert {s for s, a in advice.exercises.items() if a == "regress"} == set(exercises)


def test_during_pain_without_an_exercise_counts_for_the_whole_session() -> None:
    log = session(at(1), entry(LAT_DOSE, pain=1), entry(BRIDGE_DOSE, pain=1), sid="s-w")
    hurt = ci(log.ended_at - timedelta(minutes=5), 8, phase="during", session_id="s-w")
    advice = run(hurt, logs=(log,))
    assert advice.exercises == {
        **all_actions("maintain"),
        "glute-bridge": "regress",
        "lat-pulldown": "regress",
    }
    # With no session either, it counts for the whole routine.
    lone = run(ci(at(0), 7, phase="during"))
    assert lone.exercises == all_actions("regress")


def test_the_highest_pain_of_the_latest_occasion_counts() -> None:
    log = session(at(1), entry(LAT_DOSE, pain=1), sid="s-hi")
    during = ci(at(1, hours=-0.2), 8, phase="during", exercise_slug="lat-pulldown",
                session_id="s-hi")  # fmt: skip
    assert run(during, logs=(log,)).exercises["lat-pulldown"] == "regress"
    # A later occasion with little pain supersedes an earlier one.
    old = session(at(3), entry(LAT_DOSE, pain=7))
    new = session(at(1), entry(LAT_DOSE, pain=2))
    assert rule_ids(run(logs=(old, new))) == []
    assert rule_ids(run(logs=(old,))) == ["P1"]


def test_p1_forgets_pain_before_an_exercise_was_left_out() -> None:
    log = session(at(2), entry(LAT_DOSE, pain=8))
    out = Dose("lat-pulldown", 0, 3, 3)
    doses = (out, BRIDGE_DOSE)
    at_end = {"lat-pulldown": log.ended_at}
    assert rule_ids(run(logs=(log,), doses=doses, left_out_since=at_end)) == []
    # Pain after it was left out still counts, and says truthfully that it stays out.
    advice = run(logs=(log,), doses=doses, left_out_since={"lat-pulldown": log.ended_at - SECOND})
    assert rule_ids(advice) == ["P1"]
    assert "Lat Pulldown stays out of your sessions for now" in advice.reasons[0].message


BOTTOM_HUG = Dose("knee-hug", 1, 3, 3)  # the lowest rung of the knee hug's ladder
ROW_FLOOR = Dose("wide-dumbbell-row", 1, 10, 3)  # the row's catalog floor


@pytest.mark.parametrize(
    ("dose", "said"),
    [
        (LAT_DOSE, "Lat Pulldown is eased back a step for your next session."),
        (ROW_FLOOR, "Wide Dumbbell Row is replaced by the easier Lat Pulldown for now."),
        (BOTTOM_HUG, "Knee Hug is already at the easiest step, so it is left out of your "
         "sessions for now; it comes back after 2 sessions without pain trouble."),
    ],
)  # fmt: skip
def test_p1_says_what_the_regress_does(dose: Dose, said: str) -> None:
    log = session(at(1), entry(dose, pain=7))
    advice = run(logs=(log,), doses=(dose,))
    assert rule_ids(advice) == ["P1"]
    assert said in advice.reasons[0].message
    assert advice.exercises == {dose.exercise_slug: "regress"}


@pytest.mark.parametrize(("changed", "applied"), [(timedelta(0), True), (-SECOND, False)])
def test_p1_a_dose_changed_since_the_pain_has_had_its_step(
    changed: timedelta, applied: bool
) -> None:
    log = session(at(1), entry(BOTTOM_HUG, pain=7))
    since = {"knee-hug": log.ended_at + changed}
    advice = run(logs=(log,), doses=(BOTTOM_HUG,), dose_changed_at=since)
    message = advice.reasons[0].message
    assert ("Knee Hug is eased back a step" in message) is applied
    assert ("left out of your sessions" in message) is not applied


def test_p1_limit_is_tunable() -> None:
    log = session(at(1), entry(LAT_DOSE, pain=4))
    stricter = DEFAULT_THRESHOLDS.with_overrides({"during_pain_max": 3, "during_pain_safe_max": 2})
    advice = run(logs=(log,), thresholds=stricter)
    assert rule_ids(advice) == ["P1"]
    assert "above the limit of 3" in advice.reasons[0].message
    assert rule_ids(run(logs=(log,))) == ["P3"]


# --- P2 / P3 next morning ------------------------------------------------------------------


def morning_session(
    before: int | None, morning: int | None, *, sid: str = "s-m", start: datetime | None = None
) -> tuple[tuple[CheckIn, ...], SessionLog]:
    start = start or at(1)
    log = session(
        start, entry(LAT_DOSE), entry(BRIDGE_DOSE), entry(CURL_DOSE, skipped=True), sid=sid
    )
    out = []
    if before is not None:
        out.append(ci(start - timedelta(hours=1), before, phase="before", session_id=sid))
    if morning is not None:
        out.append(ci(start + timedelta(hours=20), morning, phase="next_morning", session_id=sid))
    return tuple(out), log


@pytest.mark.parametrize(
    ("before", "morning", "rule", "key"),
    [
        (2, 4, "P2", "rise"),  # rise of 2
        (1, 6, "P2", "rise"),  # rise of 5 (and above 5)
        (5, 6, "P2", "high"),  # above 5, rise of 1
        (4, 5, "P3", "morning"),  # 5 is not above 5; rise of 1
        (2, 3, "P3", "morning"),  # rise of 1
        (2, 2, None, None),
        (3, 2, None, None),
    ],
)
def test_next_morning_pain(before: int, morning: int, rule: str | None, key: str | None) -> None:
    checkins, log = morning_session(before, morning)
    advice = run(*checkins, logs=(log,))
    assert rule_ids(advice) == ([rule] if rule else [])
    if rule is None:
        assert advice.status == "maintain"
        return
    reason = advice.reasons[0]
    assert reason.exercises == ("glute-bridge", "lat-pulldown")
    action = "regress" if rule == "P2" else "hold"
    assert advice.status == action
    assert advice.exercises == {
        **all_actions("maintain"),
        "glute-bridge": action,
        "lat-pulldown": action,
    }  # the skipped partial curl is not affected
    assert reason.evidence["before_from"] == "before_checkin"
    if key == "rise":
        assert f"{morning - before} points above the {before} out of 10" in reason.message
        assert "Glute Bridge and Lat Pulldown are eased back a step" in reason.message
    elif key == "high":
        assert "points above" not in reason.message
        assert f"was {morning} out of 10, above 5" in reason.message
    else:
        assert "a little higher" in reason.message and "Glute Bridge and Lat Pulldown" in (
            reason.message
        )


def test_p2_without_a_before_check_in_uses_the_median_rest_pain_of_seven_days() -> None:
    checkins, log = morning_session(None, 4)
    start = log.started_at
    rest = (ci(start - timedelta(days=1), 2), ci(start - timedelta(days=3), 2))
    advice = run(*checkins, *rest, ci(start - timedelta(days=8), 9), logs=(log,))
    assert rule_ids(advice) == ["P2"]
    assert advice.reasons[0].evidence["before_from"] == "median_rest_7_days"
    assert advice.reasons[0].evidence["rise"] == 2
    # A reading exactly 7 days before counts (median of 0, 2, 2 is 2)...
    edge = run(*checkins, *rest, ci(start - timedelta(days=7), 0), logs=(log,))
    assert reason_of(edge, "P2").evidence["before_pain"] == 2
    # ...with two readings, the median is their middle.
    pair = run(*checkins, rest[0], ci(start - timedelta(days=7), 0), logs=(log,))
    assert reason_of(pair, "P2").evidence["before_pain"] == 1
    assert reason_of(pair, "P2").evidence["rise"] == 3
    # A second older, it does not: median 2, rise 2.
    older = ci(start - timedelta(days=7, seconds=1), 0)
    assert reason_of(run(*checkins, rest[0], older, logs=(log,)), "P2").evidence["rise"] == 2
    # With neither a before check-in nor rest pain, only the limit of 5 applies.
    assert rule_ids(run(*checkins, logs=(log,))) == []
    high = run(*morning_session(None, 6)[0], logs=(log,))
    assert rule_ids(high) == ["P2"]
    assert high.reasons[0].evidence["before_from"] is None


def test_p2_rest_pain_at_the_session_start_is_the_pain_it_started_from() -> None:
    checkins, log = morning_session(None, 4)
    advice = run(*checkins, ci(log.started_at, 2), logs=(log,))
    assert reason_of(advice, "P2").evidence["before_pain"] == 2


def test_a_next_morning_check_in_must_come_after_the_session_ended() -> None:
    _, log = morning_session(None, None)
    before = ci(log.started_at - timedelta(hours=1), 1, phase="before", session_id="s-m")
    tagged = ci(log.ended_at, 6, phase="next_morning", session_id="s-m")
    untagged = ci(log.ended_at, 6, phase="next_morning")
    for morning in (tagged, untagged):
        assert "P2" not in rule_ids(run(before, morning, logs=(log,))), morning
        later = ci(log.ended_at + SECOND, 6, phase="next_morning", session_id=morning.session_id)
        assert "P2" in rule_ids(run(before, later, logs=(log,))), morning


GRACE = timedelta(minutes=15)


@pytest.mark.parametrize(("late", "counts"), [(GRACE, True), (GRACE + SECOND, False)])
def test_p2_before_check_in_made_up_to_fifteen_minutes_into_the_session(
    late: timedelta, counts: bool
) -> None:
    _, log = morning_session(None, None)
    before = ci(log.started_at + late, 3, phase="before", session_id="s-m")
    morning = ci(log.ended_at + timedelta(hours=18), 4, phase="next_morning", session_id="s-m")
    rest = ci(log.started_at - timedelta(days=1), 2)
    advice = run(before, morning, rest, logs=(log,))
    # Counted: 3 -> 4 is a rise of 1 (P3). Not counted: the median rest pain 2 (P2).
    morning_rules = [r for r in rule_ids(advice) if r in ("P2", "P3")]
    assert morning_rules == (["P3"] if counts else ["P2"])


MORNING_WINDOW = timedelta(hours=36)


@pytest.mark.parametrize(
    ("after_end", "counts"), [(MORNING_WINDOW, True), (MORNING_WINDOW + SECOND, False)]
)
def test_an_untagged_next_morning_within_36_hours_counts(
    after_end: timedelta, counts: bool
) -> None:
    checkins, log = morning_session(1, None, start=at(2))
    morning = ci(log.ended_at + after_end, 4, phase="next_morning")
    advice = run(*checkins, morning, logs=(log,))
    assert (rule_ids(advice) == ["P2"]) is counts


def test_p2_tunable_rise() -> None:
    checkins, log = morning_session(2, 3)
    tuned = DEFAULT_THRESHOLDS.with_overrides({"next_morning_rise_regress": 1})
    assert rule_ids(run(*checkins, logs=(log,), thresholds=tuned)) == ["P2"]
    capped = DEFAULT_THRESHOLDS.with_overrides({"next_morning_pain_max": 3})
    checkins, log = morning_session(3, 4)
    assert rule_ids(run(*checkins, logs=(log,), thresholds=capped)) == ["P2"]


# --- P4 ------------------------------------------------------------------------------------


def good_sessions(
    *doses: Dose,
    count: int = 2,
    before: int = 1,
    morning: int | None = 1,
    last_start: datetime | None = None,
    gap: timedelta = timedelta(days=2),
) -> tuple[tuple[CheckIn, ...], tuple[SessionLog, ...]]:
    """`count` comfortable sessions `gap` apart, the last at `last_start` (2 days ago),
    each with a `before` check-in an hour before and a next-morning check-in 18 h after."""
    last_start = last_start or at(2)
    checkins: list[CheckIn] = []
    logs: list[SessionLog] = []
    for n in range(count):
        sid = f"good-{n}"
        start = last_start - gap * (count - 1 - n)
        logs.append(session(start, *(entry(d) for d in doses), sid=sid))
        checkins.append(ci(start - timedelta(hours=1), before, phase="before", session_id=sid))
        if morning is not None:
            checkins.append(
                ci(start + timedelta(hours=18), morning, phase="next_morning", session_id=sid)
            )
    return tuple(checkins), tuple(logs)


SMALL = (HUG_DOSE, CURL_DOSE)  # steps that fit under V1's cap together


def test_p4_two_comfortable_sessions_progress() -> None:
    checkins, logs = good_sessions(*SMALL)
    advice = run(*checkins, logs=logs, doses=SMALL)
    assert advice.status == "progress"
    assert rule_ids(advice) == ["P4", "P4"]
    assert advice.exercises == {"knee-hug": "progress", "partial-curl": "progress"}
    assert [r.exercises for r in advice.reasons] == [("knee-hug",), ("partial-curl",)]
    messages = " ".join(r.message for r in advice.reasons)
    assert "You did Knee Hug comfortably in your last 2 sessions" in messages
    assert "Partial Curl" in messages
    assert advice.stale is False


def test_p4_needs_two_sessions_and_a_settled_next_morning() -> None:
    checkins, logs = good_sessions(*SMALL, count=1)
    assert rule_ids(run(*checkins, logs=logs, doses=SMALL)) == []
    checkins, logs = good_sessions(*SMALL, morning=None)
    assert rule_ids(run(*checkins, logs=logs, doses=SMALL)) == []
    checkins, logs = good_sessions(*SMALL, morning=2)  # 1 before, 2 next morning: P3
    advice = run(*checkins, logs=logs, doses=SMALL)
    assert rule_ids(advice) == ["P3"]
    assert advice.status == "hold"


@pytest.mark.parametrize(
    ("spoil", "progresses"),
    [
        ({}, True),
        ({"rpe": 6}, True),  # RPE 6 is comfortable
        ({"rpe": 7}, False),
        ({"pain": 3}, True),  # pain 3 is in the safe zone
        ({"pain": 4}, False),  # (and P3 fires)
        ({"reps": 4}, False),  # prescribed 5 not all done
        ({"hold": 9}, False),  # prescribed 10 s not held
        ({"rpe": None}, False),
        ({"pain": None}, False),
    ],
)
def test_p4_only_when_the_last_session_was_comfortable(
    spoil: dict[str, Any], progresses: bool
) -> None:
    checkins, logs = good_sessions(*SMALL)
    last = logs[-1]
    spoiled = SessionLog(
        last.session_id,
        last.started_at,
        last.ended_at,
        (entry(HUG_DOSE, **spoil), entry(CURL_DOSE)),
    )
    advice = run(*checkins, logs=(*logs[:-1], spoiled), doses=SMALL)
    assert (advice.exercises["knee-hug"] == "progress") is progresses


@pytest.mark.parametrize("where", ["pain_after", "after check-in", "during check-in"])
@pytest.mark.parametrize(("pain", "progresses"), [(3, True), (4, False)])
def test_pain_right_after_a_session_above_three_blocks_progress(
    where: str, pain: int, progresses: bool
) -> None:
    checkins, logs = good_sessions(*SMALL)
    last = logs[-1]
    extra: tuple[CheckIn, ...] = ()
    if where == "pain_after":
        logs = (*logs[:-1], SessionLog(last.session_id, last.started_at, last.ended_at,
                                       last.entries, pain_after=pain))  # fmt: skip
    else:
        phase = "after" if where == "after check-in" else "during"
        extra = (ci(last.ended_at, pain, phase=phase, session_id=last.session_id),)
    advice = run(*checkins, *extra, logs=logs, doses=SMALL)
    assert ("P4" in rule_ids(advice)) is progresses
    assert ("progress" in advice.exercises.values()) is progresses


def test_p4_not_at_the_top_of_a_ladder_with_nothing_harder() -> None:
    top = Dose("knee-hug", 3, 5, 15)
    checkins, logs = good_sessions(top)
    assert rule_ids(run(*checkins, logs=logs, doses=(top,))) == []


@pytest.mark.parametrize(
    "other",
    [
        flagged(at(0), "fever_or_unwell"),
        ci(at(0), 1, radiating_below_knee=True),  # RF4 holds all progression
    ],
)
def test_p4_blocked_by_any_rule_above_maintain(other: CheckIn) -> None:
    checkins, logs = good_sessions(*SMALL)
    advice = run(*checkins, other, logs=logs, doses=SMALL)
    assert "P4" not in rule_ids(advice)
    assert "progress" not in advice.exercises.values()


# The glute bridge at the top of its ladder (nothing harder): it never steps up itself.
BRIDGE_TOP = Dose("glute-bridge", 3, 10, 3)
HUG_OUT = Dose("knee-hug", 0, 3, 3)


def test_p4_brings_back_a_left_out_exercise() -> None:
    doses = (HUG_OUT, BRIDGE_TOP)
    checkins, logs = good_sessions(BRIDGE_TOP)
    since = {"knee-hug": logs[0].started_at - SECOND}
    advice = run(*checkins, logs=logs, doses=doses, left_out_since=since)
    assert (advice.status, rule_ids(advice)) == ("progress", ["P4"])
    back = advice.reasons[0]
    assert back.exercises == ("knee-hug",)
    assert "Knee Hug comes back into your sessions at its lowest dose" in back.message
    assert advice.exercises == {"knee-hug": "progress", "glute-bridge": "maintain"}
    # A session at the very moment it was left out is not "since": only one counts.
    at_since = {"knee-hug": logs[0].started_at}
    assert (
        run(*checkins, logs=logs, doses=doses, left_out_since=at_since).exercises["knee-hug"]
        != "progress"
    )
    # Without a record of since when, it stays out.
    assert run(*checkins, logs=logs, doses=doses).exercises["knee-hug"] != "progress"


@pytest.mark.parametrize(("pain", "back"), [(3, True), (4, False)])
def test_p4_brings_back_only_after_sessions_without_pain_trouble(pain: int, back: bool) -> None:
    # Pain right after the first of the two sessions (the later one supersedes it for
    # P3, so only the comeback's own check reads it).
    checkins, logs = good_sessions(BRIDGE_TOP)
    since = {"knee-hug": logs[0].started_at - SECOND}
    hurt = ci(logs[0].ended_at, pain, phase="after", session_id=logs[0].session_id)
    advice = run(*checkins, hurt, logs=logs, doses=(HUG_OUT, BRIDGE_TOP), left_out_since=since)
    assert rule_ids(advice) == (["P4"] if back else [])


def test_p4_brings_back_only_after_a_settled_next_morning() -> None:
    checkins, logs = good_sessions(BRIDGE_TOP, before=1, morning=2)
    since = {"knee-hug": logs[0].started_at - SECOND}
    advice = run(*checkins, logs=logs, doses=(HUG_OUT, BRIDGE_TOP), left_out_since=since)
    assert advice.exercises["knee-hug"] != "progress"


# --- P0 ------------------------------------------------------------------------------------


def fresh_sessions(latest: datetime) -> tuple[tuple[CheckIn, ...], tuple[SessionLog, ...]]:
    """Two comfortable sessions whose last next-morning check-in is at `latest`."""
    return good_sessions(*SMALL, last_start=latest - timedelta(hours=18))


@pytest.mark.parametrize(
    ("latest", "progresses"),
    [(NOW - timedelta(hours=72), True), (NOW - timedelta(hours=72, seconds=1), False)],
)
def test_p0_stale_needs_a_check_in_in_the_last_72_hours(latest: datetime, progresses: bool) -> None:
    checkins, logs = fresh_sessions(latest)
    advice = run(*checkins, logs=logs, doses=SMALL)
    assert advice.stale is not progresses
    if progresses:
        assert (advice.status, rule_ids(advice)) == ("progress", ["P4", "P4"])
        return
    assert (advice.status, rule_ids(advice)) == ("hold", ["P0"])
    reason = advice.reasons[0]
    assert reason.exercises == ("knee-hug", "partial-curl")
    assert reason.evidence["failed"] == ["stale"]
    assert "Knee Hug and Partial Curl could step up" in reason.message
    assert "last 3 days" in reason.message
    assert advice.exercises == {"knee-hug": "hold", "partial-curl": "hold"}


def test_p0_a_before_check_in_is_fresh_evidence_too() -> None:
    checkins, logs = fresh_sessions(NOW - timedelta(hours=80))
    before = ci(at(0), 1, phase="before")
    assert run(*checkins, before, logs=logs, doses=SMALL).status == "progress"
    after = ci(at(0), 1, phase="after")
    assert run(*checkins, after, logs=logs, doses=SMALL).status == "hold"


@pytest.mark.parametrize(
    ("latest", "lowest_at", "progresses"),
    [
        (3, at(7), False),  # 3 is 2 above the lowest (1) of the last 7 days
        (3, at(7, seconds=1), True),  # the 1 is older than 7 days: lowest 2
        (2, at(7), True),  # 1 above
    ],
)
def test_p0_rising_latest_rest_pain(latest: int, lowest_at: datetime, progresses: bool) -> None:
    checkins, logs = good_sessions(*SMALL, before=2, morning=2)
    rest = (ci(lowest_at, 1), ci(at(0), latest))
    advice = run(*checkins, *rest, logs=logs, doses=SMALL)
    assert (advice.status == "progress") is progresses
    if not progresses:
        assert (advice.status, rule_ids(advice)) == ("hold", ["P0"])
        reason = advice.reasons[0]
        assert reason.evidence["failed"] == ["rising"]
        assert (reason.evidence["latest_rest_pain"], reason.evidence["rise"]) == (3, 2)
        assert "(3 out of 10) is 2 points above your lowest" in reason.message
        assert advice.exercises == {"knee-hug": "hold", "partial-curl": "hold"}


@pytest.mark.parametrize(
    ("earlier_day", "earlier", "progresses"),
    [
        (3, 2, False),  # last 3 days mean 3, the 3 days before 2: up by 1
        (5, 2, False),
        (6, 2, True),  # day 6 is not in the 3 days before
        (3, 3, True),  # not up
    ],
)
def test_p0_trend_of_the_last_three_days(earlier_day: int, earlier: int, progresses: bool) -> None:
    # Sessions 10 and 8 days ago at 3 before and after; daily 3 on the last three days.
    checkins, logs = good_sessions(*SMALL, before=3, morning=3, last_start=at(8))
    rest = (ci(at(earlier_day, hours=-6), earlier), *daily(3, (2, 1, 0)))
    advice = run(*checkins, *rest, logs=logs, doses=SMALL)
    assert (advice.status == "progress") is progresses, advice.reasons
    if not progresses:
        assert (advice.status, rule_ids(advice)) == ("hold", ["P0"])
        assert advice.reasons[0].evidence["failed"] == ["trend"]
        assert "higher than the 3 days before" in advice.reasons[0].message
        assert advice.exercises == {"knee-hug": "hold", "partial-curl": "hold"}


def test_p0_withdraws_a_comeback_too() -> None:
    checkins, logs = good_sessions(BRIDGE_TOP, last_start=at(4))
    since = {"knee-hug": logs[0].started_at - SECOND}
    advice = run(*checkins, logs=logs, doses=(HUG_OUT, BRIDGE_TOP), left_out_since=since)
    assert advice.stale is True
    assert (advice.status, rule_ids(advice)) == ("hold", ["P0"])
    assert advice.reasons[0].exercises == ("knee-hug",)
    assert advice.exercises == {"knee-hug": "hold", "glute-bridge": "maintain"}


# --- V1 ------------------------------------------------------------------------------------


def test_v1_caps_a_big_jump_in_weekly_volume() -> None:
    # One exercise: 5 -> 8 reps is 60% more weekly volume.
    checkins, logs = good_sessions(LAT_DOSE)
    advice = run(*checkins, logs=logs, doses=(LAT_DOSE,))
    assert rule_ids(advice) == ["V1"]
    reason = advice.reasons[0]
    assert reason.exercises == ("lat-pulldown",)
    assert "Lat Pulldown stays at the same dose" in reason.message
    assert reason.evidence["weekly_volume_planned"] > reason.evidence["cap"]
    assert advice.exercises == {"lat-pulldown": "hold"}


@pytest.mark.parametrize(("growth", "progresses"), [(0.30, True), (0.29, False)])
def test_v1_a_step_of_exactly_the_cap_is_allowed(growth: float, progresses: bool) -> None:
    # Partial curl 10 -> 13 reps: 50 -> 65 s of work, exactly +30%.
    checkins, logs = good_sessions(CURL_DOSE)
    tuned = DEFAULT_THRESHOLDS.with_overrides({"volume_growth_max": growth})
    advice = run(*checkins, logs=logs, doses=(CURL_DOSE,), thresholds=tuned)
    assert rule_ids(advice) == (["P4"] if progresses else ["V1"])
    assert advice.exercises == {"partial-curl": "progress" if progresses else "hold"}


@pytest.mark.parametrize(
    ("first", "progresses"),
    [(NOW - timedelta(weeks=2), True), (NOW - timedelta(weeks=2, seconds=1), False)],
)
def test_v1_counts_the_volume_of_the_last_two_weeks(first: datetime, progresses: bool) -> None:
    # The first session, more than 2 weeks old, halves the volume done per week.
    checkins, logs = good_sessions(CURL_DOSE, last_start=at(2), gap=at(2) - first)
    advice = run(*checkins, logs=logs, doses=(CURL_DOSE,))
    assert rule_ids(advice) == (["P4"] if progresses else ["V1"])


def test_v1_takes_progressions_in_order_until_the_cap() -> None:
    # Knee hug (65 -> 75 s) and partial curl (50 -> 65 s): +21.7% together.
    checkins, logs = good_sessions(*SMALL)
    tight = DEFAULT_THRESHOLDS.with_overrides({"volume_growth_max": 0.10})
    capped = run(*checkins, logs=logs, doses=SMALL, thresholds=tight)
    assert capped.exercises == {"knee-hug": "progress", "partial-curl": "hold"}
    assert rule_ids(capped) == ["V1", "P4"]


def test_v1_leaves_the_overall_status_to_the_other_rules() -> None:
    checkins, logs = good_sessions(*SMALL)
    tight = DEFAULT_THRESHOLDS.with_overrides({"volume_growth_max": 0.10})
    capped = run(*checkins, logs=logs, doses=SMALL, thresholds=tight)
    assert capped.status == "progress"  # knee hug still progresses
    checkins, logs = good_sessions(LAT_DOSE)
    assert run(*checkins, logs=logs, doses=(LAT_DOSE,)).status == "maintain"


# --- the engine: actions, timing and the window ------------------------------------------


def test_severity_sets_the_status_and_every_rule_is_reported() -> None:
    log = session(at(1), entry(LAT_DOSE, pain=6), entry(BRIDGE_DOSE, pain=4))
    advice = run(ci(at(0), 8), logs=(log,))
    assert advice.status == "see_doctor"
    assert rule_ids(advice) == ["RF3", "P1", "P3"]
    # A pending doctor's view holds what is not regressed.
    assert advice.exercises == {
        **all_actions("hold"),
        "lat-pulldown": "regress",
        "glute-bridge": "hold",
    }


def test_next_check_in_is_due_a_day_after_the_last_or_the_morning_after_a_session() -> None:
    assert run(ci(at(3), 2)).next_checkin_due_at == at(2)
    assert run().next_checkin_due_at == NOW
    # A session after the latest rest check-in: 08:00 the next morning, if sooner.
    log = session(at(1), entry(LAT_DOSE))
    rest = ci(at(1, hours=2), 2)
    assert run(rest, logs=(log,)).next_checkin_due_at == datetime(2026, 6, 15, 8, tzinfo=UTC)
    assert run(ci(at(2), 2), logs=(log,)).next_checkin_due_at == at(1)
    # The session's next morning is in: a day after the latest rest check-in.
    morning = ci(at(0, hours=4), 2, phase="next_morning", session_id=log.session_id)
    assert run(rest, morning, logs=(log,)).next_checkin_due_at == at(-1, hours=4)
    # A rest check-in at the very end of the session: a day after it.
    at_end = ci(log.ended_at, 2)
    assert run(at_end, logs=(log,)).next_checkin_due_at == log.ended_at + timedelta(days=1)
    # Morning is the person's morning.
    paris = run(rest, logs=(log,), timezone="Europe/Paris").next_checkin_due_at
    assert paris == datetime(2026, 6, 15, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "fires"), [(timedelta(days=42), True), (timedelta(days=42) + SECOND, False)]
)
def test_the_window_is_42_days_back_from_the_latest_data(age: timedelta, fires: bool) -> None:
    advice = run(flagged(NOW - age, "night_pain"), ci(at(0), 1))
    assert ("RF3" in rule_ids(advice)) is fires


@pytest.mark.parametrize(("age", "read"), [(timedelta(days=42), True),
                                           (timedelta(days=42) + SECOND, False)])  # fmt: skip
def test_logs_are_read_42_days_back_from_the_latest_data(age: timedelta, read: bool) -> None:
    log = session(NOW - age, entry(LAT_DOSE, pain=7))
    assert (rule_ids(run(ci(at(0), 1), logs=(log,))) == ["P1"]) is read


def test_a_session_started_now_is_read() -> None:
    assert rule_ids(run(logs=(session(NOW, entry(LAT_DOSE, pain=7)),))) == ["P1"]


def test_data_after_now_is_not_read() -> None:
    assert rule_ids(run(ci(at(0), 2), flagged(at(0, hours=-1), "both_legs"))) == []


def test_red_flags_fire_whatever_the_thresholds() -> None:
    tightest = DEFAULT_THRESHOLDS.with_overrides(
        {"during_pain_max": 2, "during_pain_safe_max": 0, "rest_pain_doctor": 6}
    )
    for t in (DEFAULT_THRESHOLDS, tightest):
        assert run(flagged(at(0), "both_legs", pain=0), thresholds=t).status == "urgent_care"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"during_pain_max": 7}, "during_pain_max"),  # looser than the model allows
        ({"rest_pain_doctor": 11}, "rest_pain_doctor"),
        ({"flare_points": 0}, "flare_points"),
        ({"saddle_numbness": False}, "saddle_numbness"),  # red flags cannot be switched off
        ({"RF1": 0}, "RF1"),
        ({"review_weeks": "four"}, "review_weeks"),
        ({"during_pain_safe_max": 3, "during_pain_max": 3}, "during_pain_safe_max"),
    ],
)
def test_out_of_bounds_overrides_are_refused(overrides: dict[str, Any], field: str) -> None:
    from api.domain.thresholds import ThresholdError

    with pytest.raises(ThresholdError) as info:
        DEFAULT_THRESHOLDS.with_overrides(overrides)
    assert info.value.field == field


def test_f1_a_flare_longer_than_the_window_goes_on_from_the_stored_advice() -> None:
    # Rest pain 4 every day for six weeks: within view, the baseline has caught up.
    flat = daily(4, range(0, 42))
    assert "F1" not in rule_ids(run(*flat))
    # The last stored advice stood on a flare that began 50 days ago from a baseline of 1:
    # it goes on (and keeps its first day, so the routine is not eased again)...
    began = (NOW - timedelta(days=50)).date()
    carried = run(*flat, carried_flare=(began, 1.0))
    reason = f1(carried)
    assert reason.status == "see_doctor"
    assert reason.source == began.isoformat()
    assert reason.evidence["baseline_from"] == "carried"
    assert reason.evidence["baseline_mean"] == 1.0
    # ...until three later days are back within a point of that baseline.
    settled = [*daily(4, range(3, 42)), *daily(2, range(0, 3))]
    assert "F1" not in rule_ids(run(*settled, carried_flare=(began, 1.0)))
    # A carried flare whose first day is in view is found by the walk itself.
    recent = (NOW - timedelta(days=2)).date()
    assert (
        f1(
            run(*daily(1, range(3, 42)), *daily(5, range(0, 3)), carried_flare=(recent, 9.0))
        ).evidence["baseline_from"]
        != "carried"
    )


def test_p1_names_what_hurt_when_it_counts_for_the_session() -> None:
    # Wide dumbbell row is not in the routine (its easier variation is): its pain counts
    # for the session's routine exercises, and the message says what actually hurt.
    row = Dose("wide-dumbbell-row", 1, 10, 3)
    log = session(at(1), entry(LAT_DOSE, pain=1), entry(row, pain=7))
    advice = run(ci(at(2), 1), logs=(log,))
    p1 = reason_of(advice, "P1")
    assert p1.exercises == ("lat-pulldown",)
    assert p1.message.startswith("Pain during Wide Dumbbell Row reached 7 out of 10")
    assert "Lat Pulldown is eased back a step" in p1.message


def test_f1_a_carried_flare_says_it_has_lasted() -> None:
    began = (NOW - timedelta(days=50)).date()
    advice = run(*daily(5, range(0, 3)), carried_flare=(began, 2.0))
    reason = f1(advice)
    assert reason.evidence["recent_mean"] == 5.0 and reason.evidence["rise"] == 3.0
    assert "clearly above your usual level (about 2 out of 10)" in reason.message
    assert "rose by 0 points" not in reason.message
