"""Details the rule tables leave loose: exact evidence and sources of each reason, the
words messages name exercises by, local days, evidence windows, the canonical order of
check-ins and logs, the per-exercise actions, when the next check-in is due, and the
ladder's arithmetic. Table-style and deterministic: each case pins one observable value.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.domain.evidence import (
    Before,
    anchor,
    before_pain,
    canonical_checkins,
    canonical_logs,
    context,
    daily_rest_means,
    display_name,
    iso,
    local_day,
    names,
    rounded,
    zone,
)
from api.domain.ladder import (
    CatalogDose,
    _steps,
    ladder,
    step_down,
    volume,
    work,
)
from api.domain.rule_table import RULES_BY_ID
from api.domain.rules import _actions, evaluate
from api.domain.thresholds import DEFAULT_THRESHOLDS
from api.domain.types import Advice, CheckIn, Dose, History, LogEntry, Reason, SessionLog

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = "2026-06-15"
SECOND = timedelta(seconds=1)
LA = ZoneInfo("America/Los_Angeles")  # UTC-7 in June
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14

BRIDGE = CatalogDose("glute-bridge", 1, 5, 10, 2, 3, name="Glute Bridge")
HUG = CatalogDose("knee-hug", 1, 5, 5, 10, 15, name="Knee Hug")
SUPERMAN = CatalogDose("superman", 1, 5, 10, name="Superman")
CATALOG = {c.slug: c for c in (BRIDGE, HUG, SUPERMAN)}
ROUTINE = (Dose("glute-bridge", 1, 5, 2), Dose("knee-hug", 1, 5, 10))
SLUGS = ("glute-bridge", "knee-hug")


def at(days_ago: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days_ago, hours=hours)


def ci(
    when: datetime, pain: int = 2, phase: str = "daily", cid: str | None = None, **kw: Any
) -> CheckIn:
    cid = cid or f"c-{when.isoformat()}-{phase}-{pain}"
    return CheckIn(id=cid, recorded_at=when, phase=phase, pain=pain, **kw)  # type: ignore[arg-type]


def session(start: datetime, sid: str = "s1", *entries: LogEntry, **kw: Any) -> SessionLog:
    return SessionLog(sid, start, start + timedelta(minutes=30), tuple(entries), **kw)


def run(*checkins: CheckIn, now: datetime = NOW, **history: Any) -> Advice:
    history.setdefault("doses", ROUTINE)
    return evaluate(History(checkins=checkins, **history), now, catalog=CATALOG)


def reasons_of(advice: Advice, rule_id: str) -> list[Reason]:
    return [r for r in advice.reasons if r.rule_id == rule_id]


def only(advice: Advice, rule_id: str) -> Reason:
    found = reasons_of(advice, rule_id)
    assert len(found) == 1, (rule_id, advice.reasons)
    return found[0]


# --- evidence: zones, days, names -----------------------------------------------------


@pytest.mark.parametrize("name", ["Not/A_Zone", "", "../etc/passwd", "utc"])
def test_an_unknown_or_invalid_zone_counts_as_utc(name: str) -> None:
    tz = zone(name)
    assert str(tz) == "UTC"
    assert tz is ZoneInfo("UTC")


def test_a_known_zone_is_kept() -> None:
    assert str(zone("America/Los_Angeles")) == "America/Los_Angeles"


@pytest.mark.parametrize(
    ("moment", "tz", "day"),
    [
        (datetime(2026, 6, 15, 11, 0, tzinfo=UTC), KIRITIMATI, date(2026, 6, 16)),
        (datetime(2026, 6, 15, 11, 0, tzinfo=UTC), LA, date(2026, 6, 15)),
        (datetime(2026, 6, 15, 3, 0, tzinfo=UTC), LA, date(2026, 6, 14)),
        (datetime(2026, 6, 15, 3, 0, tzinfo=UTC), KIRITIMATI, date(2026, 6, 15)),
        (datetime(2026, 6, 15, 23, 59, tzinfo=UTC), ZoneInfo("UTC"), date(2026, 6, 15)),
    ],
)
def test_local_day_is_the_persons_calendar_day(moment: datetime, tz: Any, day: date) -> None:
    assert local_day(moment, tz) == day


def test_daily_rest_means_per_local_day_of_rest_phases_only() -> None:
    checkins = [
        ci(datetime(2026, 6, 15, 11, 0, tzinfo=UTC), 2),  # LA: 15th; Kiritimati: 16th
        ci(datetime(2026, 6, 15, 13, 0, tzinfo=UTC), 5, "next_morning"),  # 15th; 16th
        ci(datetime(2026, 6, 15, 14, 0, tzinfo=UTC), 9, "before"),
        ci(datetime(2026, 6, 15, 15, 0, tzinfo=UTC), 9, "during"),
        ci(datetime(2026, 6, 15, 16, 0, tzinfo=UTC), 9, "after"),
    ]
    assert daily_rest_means(checkins, LA) == {date(2026, 6, 15): 3.5}
    assert daily_rest_means(checkins, KIRITIMATI) == {date(2026, 6, 16): 3.5}
    split = [*checkins, ci(datetime(2026, 6, 15, 6, 0, tzinfo=UTC), 4)]  # LA: 14th
    assert daily_rest_means(split, LA) == {date(2026, 6, 15): 3.5, date(2026, 6, 14): 4.0}


@pytest.mark.parametrize(
    ("slug", "catalog", "shown"),
    [
        ("glute-bridge", CATALOG, "Glute Bridge"),
        ("glute-bridge", {}, "Glute bridge"),
        ("glute_bridge", {}, "Glute bridge"),
        ("single-leg_glute-bridge", {}, "Single leg glute bridge"),
        ("glute-bridge", {"glute-bridge": CatalogDose("glute-bridge", name="")}, "Glute bridge"),
        ("plank", {}, "Plank"),
    ],
)
def test_display_name(slug: str, catalog: dict[str, CatalogDose], shown: str) -> None:
    assert display_name(slug, catalog) == shown


@pytest.mark.parametrize(
    ("slugs", "shown"),
    [
        ((), ""),
        (("glute-bridge",), "Glute Bridge"),
        (("knee-hug", "glute-bridge"), "Glute Bridge and Knee Hug"),
        (("superman", "knee-hug", "glute-bridge"), "Glute Bridge, Knee Hug and Superman"),
        (
            ("superman", "knee-hug", "glute-bridge", "cat-cow"),
            "Cat cow, Glute Bridge, Knee Hug and Superman",
        ),
    ],
)
def test_names(slugs: tuple[str, ...], shown: str) -> None:
    assert names(slugs, CATALOG) == shown


@pytest.mark.parametrize(
    ("value", "shown"), [(1 / 3, 0.33), (2 / 3, 0.67), (2.0, 2.0), (7 / 3, 2.33), (0.125, 0.12)]
)
def test_rounded_to_two_places(value: float, shown: float) -> None:
    assert rounded(value) == shown


# --- evidence: the pain a session started from -----------------------------------------

START = at(1)


def test_before_pain_is_the_latest_tagged_before_check_in_up_to_fifteen_minutes_in() -> None:
    log = session(START)
    first = ci(START - timedelta(hours=1), 3, "before", "b1", session_id="s1")
    last = ci(START + timedelta(minutes=15), 4, "before", "b2", session_id="s1")
    late = ci(START + timedelta(minutes=15) + SECOND, 9, "before", "b3", session_id="s1")
    other = ci(START, 9, "before", "b4", session_id="s2")
    rest = ci(START - timedelta(hours=2), 1)
    assert before_pain(log, [rest, first, last, late, other]) == Before(4, last, 1)
    assert before_pain(log, [rest, first, late, other]) == Before(3, first, 1)


def test_before_pain_without_a_tagged_check_in_is_the_seven_day_median_rest_pain() -> None:
    log = session(START)
    counted = [
        ci(START - timedelta(days=7), 2),
        ci(START - timedelta(days=1), 6, "next_morning"),
        ci(START, 4),
    ]
    ignored = [
        ci(START - timedelta(days=7) - SECOND, 9),
        ci(START + SECOND, 9),
        ci(START - timedelta(hours=1), 9, "after"),
        ci(START - timedelta(hours=1), 9, "during"),
        ci(START + timedelta(minutes=16), 9, "before", session_id="s1"),
        ci(START, 9, "before", session_id="s2"),
    ]
    got = before_pain(log, [*counted, *ignored])
    assert got == Before(4, None, 3)
    assert got is not None and got.readings == 3 and got.checkin is None
    two = before_pain(log, counted[:2])
    assert two == Before(4.0, None, 2)
    assert before_pain(log, ignored) is None


# --- evidence: the window -------------------------------------------------------------


def test_anchor_is_the_latest_data_at_or_before_now() -> None:
    assert anchor(History(), NOW) == NOW
    old = ci(at(10))
    assert anchor(History(checkins=(old,)), NOW) == at(10)
    assert anchor(History(checkins=(old, ci(at(-1)))), NOW) == at(10)
    assert anchor(History(checkins=(old,), logs=(session(at(3)),)), NOW) == at(3)
    assert anchor(History(checkins=(old, ci(NOW))), NOW) == NOW
    assert anchor(History(checkins=(old,), logs=(session(NOW),)), NOW) == NOW
    assert anchor(History(checkins=(old,), logs=(session(NOW + SECOND),)), NOW) == at(10)


def test_context_window_edges_and_local_today() -> None:
    window = timedelta(days=5)
    latest = at(2)
    inside = ci(latest - window, cid="edge")
    outside = ci(latest - window - SECOND, cid="out")
    future = ci(NOW + SECOND, cid="future")
    logs = (
        session(latest - window, "s-edge"),
        session(latest - window - SECOND, "s-out"),
        session(NOW + SECOND, "s-future"),
    )
    history = History(
        checkins=(ci(latest, cid="latest"), inside, outside, future),
        logs=logs,
        timezone="America/Los_Angeles",
    )
    ctx = context(history, NOW, window, DEFAULT_THRESHOLDS, CATALOG)
    assert [c.id for c in ctx.checkins] == ["edge", "latest"]
    assert [log.session_id for log in ctx.logs] == ["s-edge"]
    assert [c.id for c in ctx.rest] == ["edge", "latest"]


def test_rest_pain_keeps_its_own_window_back_from_the_latest_rest_check_in() -> None:
    window = timedelta(days=5)
    history = History(
        checkins=(
            ci(at(30), cid="r30"),
            ci(at(35), cid="r35"),
            ci(at(35) - SECOND, cid="r-out"),
            ci(at(30), 2, "before", cid="b30"),
            ci(at(1), 2, "before", cid="b1"),
            ci(NOW + SECOND, cid="r-future"),
        ),
        logs=(session(at(1)),),
    )
    ctx = context(history, NOW, window, DEFAULT_THRESHOLDS, CATALOG)
    assert [c.id for c in ctx.checkins] == ["r35", "r30", "b1"]
    assert [c.id for c in ctx.rest] == ["r35", "r30"]
    assert [log.session_id for log in ctx.logs] == ["s1"]
    # The latest rest-pain check-in ever counts even when it was not loaded.
    beyond = History(
        checkins=(ci(at(40), cid="r40"), ci(at(32), cid="r32"), ci(at(31), cid="r31")),
        logs=(session(at(1)),),
        last_rest=ci(at(26), cid="r26"),
    )
    ctx = context(beyond, NOW, window, DEFAULT_THRESHOLDS, CATALOG)
    assert [c.id for c in ctx.checkins] == ["r31"]


@pytest.mark.parametrize(
    ("tz", "now", "today"),
    [
        ("Pacific/Kiritimati", datetime(2026, 6, 15, 11, 0, tzinfo=UTC), date(2026, 6, 16)),
        ("America/Los_Angeles", datetime(2026, 6, 15, 3, 0, tzinfo=UTC), date(2026, 6, 14)),
        ("UTC", datetime(2026, 6, 15, 3, 0, tzinfo=UTC), date(2026, 6, 15)),
    ],
)
def test_context_today_and_daily_means_are_local(tz: str, now: datetime, today: date) -> None:
    history = History(checkins=(ci(now - SECOND, 3),), timezone=tz)
    ctx = context(history, now, timedelta(days=1), DEFAULT_THRESHOLDS, CATALOG)
    assert ctx.today == today
    assert ctx.daily == {today: 3.0}
    assert str(ctx.tz) == tz


# --- evidence: a total order on versions of one check-in or log ------------------------

T = at(1)
BASE_CHECKIN = CheckIn("same", T, "daily", 3)


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [
        ("pain", 3, 4),
        ("phase", "daily", "next_morning"),
        ("session_id", None, "s1"),
        ("session_id", None, "0b7e3c1a-uuid"),  # below any placeholder a None might take
        ("session_id", "s1", "s2"),
        ("exercise_slug", None, "glute-bridge"),
        ("exercise_slug", None, "90-90-hip-switch"),
        ("exercise_slug", "glute-bridge", "knee-hug"),
        ("red_flags_resolved", False, True),
        ("denied", frozenset(), frozenset({"night_pain"})),
        ("assessed_by", None, "doctor"),
        ("assessed_by", "doctor", "physiotherapist"),
        ("assessed_by", None, "Doctor"),  # any named assessor beats none, however spelt
        ("assessed_at", T - timedelta(hours=1), T + timedelta(hours=1)),
        ("assessed_at", T - timedelta(hours=1), None),  # none: counts as recorded_at
        ("assessed_at", None, T + timedelta(hours=1)),
        ("radiating_below_knee", None, False),
        ("radiating_below_knee", False, True),
        ("radiating_below_knee", None, True),
        ("leg_numbness", None, False),
        ("leg_numbness", False, True),
        ("leg_numbness", None, True),
        ("locations", frozenset(), frozenset({"left_calf"})),
    ],
)
def test_the_greatest_version_of_a_check_in_wins_in_any_order(
    field: str, low: Any, high: Any
) -> None:
    small = dataclasses.replace(BASE_CHECKIN, **{field: low})
    big = dataclasses.replace(BASE_CHECKIN, **{field: high})
    assert canonical_checkins([small, big]) == [big]
    assert canonical_checkins([big, small]) == [big]


def _log(pain_after: int | None = 2, **entry: Any) -> SessionLog:
    fields: dict[str, Any] = {
        "exercise_slug": "glute-bridge",
        "prescribed": Dose("glute-bridge", 1, 5, 2),
        "sets_completed": 1,
        "reps": (5,),
        "hold_seconds": 2,
        "rpe": 4,
        "pain_during": 2,
    }
    fields.update(entry)
    return session(T, "same", LogEntry(**fields), pain_after=pain_after)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ({"pain_after": None}, {"pain_after": 0}),
        ({"pain_after": 2}, {"pain_after": 3}),
        ({"hold_seconds": None}, {"hold_seconds": 0}),
        ({"hold_seconds": 2}, {"hold_seconds": 3}),
        ({"rpe": None}, {"rpe": 0}),
        ({"rpe": 4}, {"rpe": 5}),
        ({"pain_during": None}, {"pain_during": 0}),
        ({"pain_during": 2}, {"pain_during": 3}),
        ({"reps": (5,)}, {"reps": (6,)}),
        ({"sets_completed": 1}, {"sets_completed": 2}),
        ({"skipped": False}, {"skipped": True}),
        (
            {"prescribed": Dose("glute-bridge", 1, 5, 2)},
            {"prescribed": Dose("glute-bridge", 2, 5, 2)},
        ),
        (
            {"prescribed": Dose("glute-bridge", 1, None, 2)},
            {"prescribed": Dose("glute-bridge", 1, 0, 2)},
        ),
        (
            {"prescribed": Dose("glute-bridge", 1, 5, 2)},
            {"prescribed": Dose("glute-bridge", 1, 6, 2)},
        ),
        (
            {"prescribed": Dose("glute-bridge", 1, 5, None)},
            {"prescribed": Dose("glute-bridge", 1, 5, 0)},
        ),
        (
            {"prescribed": Dose("glute-bridge", 1, 5, 2)},
            {"prescribed": Dose("glute-bridge", 1, 5, 3)},
        ),
    ],
)
def test_the_greatest_version_of_a_log_wins_in_any_order(
    low: dict[str, Any], high: dict[str, Any]
) -> None:
    small, big = _log(**low), _log(**high)
    assert small != big
    assert canonical_logs([small, big]) == [big]
    assert canonical_logs([big, small]) == [big]


# --- red flags: evidence, source, message ----------------------------------------------

ALL_FLAGS = frozenset(
    {
        "both_legs",
        "saddle_numbness",
        "fever_or_unwell",
        "significant_trauma",
        "cancer_history",
        "unexplained_weight_loss",
        "night_pain",
    }
)


@pytest.mark.parametrize(
    ("rule_id", "status", "shown"),
    [
        ("RF1", "urgent_care", ["both_legs", "saddle_numbness"]),
        ("RF2", "see_doctor", ["fever_or_unwell", "significant_trauma"]),
        ("RF2b", "see_doctor", ["cancer_history", "unexplained_weight_loss"]),
    ],
)
def test_flag_reasons_show_their_own_group_and_the_check_in(
    rule_id: str, status: str, shown: list[str]
) -> None:
    when = at(2)
    advice = run(ci(when, 2, cid="flag", red_flags=ALL_FLAGS))
    reason = only(advice, rule_id)
    assert reason.status == status
    assert reason.evidence == {
        "checkin_id": "flag",
        "recorded_at": iso(when),
        "flags": shown,
    }
    assert reason.source == "flag"
    assert reason.message == RULES_BY_ID[rule_id].messages["flag"]
    assert reason.exercises == ()


def test_a_flag_beyond_the_window_is_shown_from_the_last_ever() -> None:
    old = ci(at(300), 2, cid="old", red_flags=frozenset({"fever_or_unwell"}))
    reason = only(run(ci(at(1), 2), last_infection_or_fracture=old), "RF2")
    assert reason.evidence == {
        "checkin_id": "old",
        "recorded_at": iso(at(300)),
        "flags": ["fever_or_unwell"],
    }
    assert reason.source == "old"


def test_rf3_night_pain_reason() -> None:
    when = at(1)
    advice = run(ci(when, 3, cid="night", red_flags=frozenset({"night_pain"})))
    reason = only(advice, "RF3")
    assert reason.status == "see_doctor"
    assert reason.evidence == {"checkin_id": "night", "recorded_at": iso(when)}
    assert reason.source == "night"
    assert reason.message == RULES_BY_ID["RF3"].messages["flag"]


@pytest.mark.parametrize(("pain", "phase"), [(8, "daily"), (10, "next_morning")])
def test_rf3_rest_pain_reason(pain: int, phase: str) -> None:
    when = at(1)
    advice = run(ci(at(2), 3, cid="earlier"), ci(when, pain, phase, cid="severe"))
    reason = only(advice, "RF3")
    assert reason.status == "see_doctor"
    assert reason.evidence == {
        "checkin_id": "severe",
        "recorded_at": iso(when),
        "pain": pain,
        "threshold": 8,
    }
    assert reason.source == "severe"
    assert reason.message == RULES_BY_ID["RF3"].say("rest_pain", pain=pain, threshold="8")
    assert f"({pain} out of 10)" in reason.message and "below 8 again" in reason.message


NIGHT = ci(at(300), 3, cid="night", red_flags=frozenset({"night_pain"}))
NO_NIGHT = frozenset({"night_pain"})


@pytest.mark.parametrize(
    ("denial", "cleared"),
    [
        (ci(at(200), 2, cid="no", denied=NO_NIGHT), True),
        (ci(at(200), 7, "next_morning", cid="no", denied=NO_NIGHT), True),
        (ci(at(200), 8, cid="no", denied=NO_NIGHT), False),
        (ci(at(200), 2, "before", cid="no", denied=NO_NIGHT), False),
        (ci(at(200), 2, cid="no"), False),
        (ci(at(300), 2, cid="no", denied=NO_NIGHT), False),
        (ci(at(301), 2, cid="no", denied=NO_NIGHT), False),
    ],
)
def test_rf3_a_night_pain_no_beyond_the_window_clears_a_flag_before_it(
    denial: CheckIn, cleared: bool
) -> None:
    advice = run(ci(at(1), 2), last_night_pain=NIGHT, last_night_pain_denial=denial)
    flags = [x for x in reasons_of(advice, "RF3") if x.source == "night"]
    assert (flags == []) is cleared


def test_rf3_rest_pain_threshold_is_shown_as_tuned() -> None:
    t = DEFAULT_THRESHOLDS.with_overrides({"rest_pain_doctor": 6})
    advice = evaluate(History(checkins=(ci(at(1), 6, cid="six"),)), NOW, thresholds=t)
    reason = only(advice, "RF3")
    assert reason.evidence["threshold"] == 6 and reason.source == "six"
    assert "below 6 again" in reason.message


def test_rf3_night_pain_and_rest_pain_together() -> None:
    advice = run(ci(at(1), 9, cid="both", red_flags=frozenset({"night_pain"})))
    rf3 = reasons_of(advice, "RF3")
    assert [r.source for r in rf3] == ["both", "both"]
    assert [set(r.evidence) for r in rf3] == [
        {"checkin_id", "recorded_at"},
        {"checkin_id", "recorded_at", "pain", "threshold"},
    ]


def test_rf4_new_leg_symptom_reason() -> None:
    when = at(1)
    advice = run(ci(at(3), 2, cid="quiet"), ci(when, 2, cid="leg", radiating_below_knee=True))
    reason = only(advice, "RF4")
    assert reason.status == "hold"
    assert reason.evidence == {
        "checkin_id": "leg",
        "recorded_at": iso(when),
        "new": ["below_knee"],
    }
    assert reason.source == "leg"
    assert reason.message == RULES_BY_ID["RF4"].messages["new"]


def test_rf4_spreading_leg_symptom_reason() -> None:
    when = at(1)
    advice = run(
        ci(at(3), 2, cid="numb", leg_numbness=True),
        ci(when, 2, cid="calf", leg_numbness=True, locations=frozenset({"left_calf", "back"})),
    )
    reason = only(advice, "RF4")
    assert reason.evidence == {
        "checkin_id": "calf",
        "recorded_at": iso(when),
        "new": ["left_calf"],
    }
    assert reason.source == "calf"
    assert reason.message == RULES_BY_ID["RF4"].messages["spreading"]


def test_rf4_symptoms_back_after_a_no_are_new_again() -> None:
    advice = run(
        ci(at(5), 2, cid="first", radiating_below_knee=True, leg_numbness=True),
        ci(at(4), 2, cid="no", radiating_below_knee=False),
        ci(at(3), 2, cid="back", radiating_below_knee=True, leg_numbness=True),
    )
    reason = only(advice, "RF4")
    assert reason.evidence == {
        "checkin_id": "back",
        "recorded_at": iso(at(3)),
        "new": ["below_knee", "leg_numbness"],
    }
    assert reason.source == "back"
    assert reason.message == RULES_BY_ID["RF4"].messages["new"]
    cleared = run(ci(at(5), 2, radiating_below_knee=True), ci(at(4), 2, radiating_below_knee=False))
    assert reasons_of(cleared, "RF4") == []


# --- F1 and F2: evidence, source, message ------------------------------------------------


def rest_days(**pains: int) -> list[CheckIn]:
    """Rest-pain check-ins by days ago: rest_days(d0=5, d8=2)."""
    return [ci(at(int(k[1:])), v, cid=f"r{k}") for k, v in pains.items()]


def test_f1_flare_above_the_baseline_on_its_first_day() -> None:
    advice = run(*rest_days(d10=3, d9=2, d8=2, d0=5))
    reason = only(advice, "F1")
    assert reason.status == "regress"
    assert reason.evidence == {
        "baseline_mean": 2.33,
        "baseline_from": "14_days",
        "recent_mean": 5.0,
        "rise": 2.67,
        "rise_within_7_days": 0.0,
        "flare_began": TODAY,
        "days_lasted": 1,
        "latest_rest_pain": 5.0,
        "latest_rest_day": TODAY,
    }
    assert reason.source == TODAY
    assert reason.exercises == SLUGS
    assert "about 2.3 out of 10" in reason.message and f"since {TODAY}" in reason.message


def test_f1_a_jump_from_yesterday_alone() -> None:
    advice = run(*rest_days(d9=2, d8=2, d1=1, d0=4))
    reason = only(advice, "F1")
    assert reason.status == "regress"
    assert reason.evidence == {
        "baseline_mean": 2.0,
        "baseline_from": "14_days",
        "recent_mean": 2.5,
        "rise": 0.5,
        "rise_within_7_days": 3.0,
        "flare_began": TODAY,
        "days_lasted": 1,
        "latest_rest_pain": 4.0,
        "latest_rest_day": TODAY,
    }
    assert "rose by 3 points" in reason.message and f"by {TODAY}" in reason.message


def test_f1_lasting_flare_keeps_its_first_day_and_baseline() -> None:
    advice = run(*rest_days(d12=3, d11=2, d10=2, d2=5, d1=5, d0=5))
    reason = only(advice, "F1")
    assert reason.status == "see_doctor"
    assert reason.evidence == {
        "baseline_mean": 2.33,
        "baseline_from": "14_days",
        "recent_mean": 5.0,
        "rise": 2.67,
        "rise_within_7_days": 0.0,
        "flare_began": "2026-06-13",
        "days_lasted": 3,
        "latest_rest_pain": 5.0,
        "latest_rest_day": TODAY,
    }
    assert reason.source == "2026-06-13"
    assert "about 2.3 out of 10" in reason.message and "since 2026-06-13" in reason.message


def test_f1_lasts_to_its_last_raised_day_once_pain_comes_down() -> None:
    advice = run(*rest_days(d12=3, d11=2, d10=2, d2=5, d1=5, d0=3))
    reason = only(advice, "F1")
    assert reason.status == "regress"
    assert reason.evidence["days_lasted"] == 2
    assert reason.evidence["latest_rest_pain"] == 3.0
    assert reason.evidence["latest_rest_day"] == TODAY
    assert reason.evidence["baseline_from"] == "14_days"
    assert reason.message == RULES_BY_ID["F1"].say(
        "settling", baseline=2.3, began="2026-06-13", days=2, jump="0"
    )


def test_f1_first_readings_baseline_counts_local_days() -> None:
    """In Kiritimati (UTC+14) the first reading, on the previous UTC day, is on the same
    local day as the high one: a day is never its own baseline, so no flare."""
    first = ci(datetime(2026, 6, 10, 11, 0, tzinfo=UTC), 0, cid="first")  # local 11th 01:00
    high = ci(datetime(2026, 6, 11, 1, 0, tzinfo=UTC), 6, cid="high")  # local 11th 15:00
    assert reasons_of(run(first, high, timezone="Pacific/Kiritimati"), "F1") == []
    # The same two readings a local day apart: the first is the baseline.
    later = ci(datetime(2026, 6, 11, 11, 0, tzinfo=UTC), 6, cid="later")  # local 12th
    reason = only(run(first, later, timezone="Pacific/Kiritimati"), "F1")
    assert reason.evidence["baseline_from"] == "first_readings"
    assert reason.evidence["flare_began"] == "2026-06-12"


def test_f1_a_carried_flare_goes_on_from_its_first_day_and_baseline() -> None:
    checkins = rest_days(d3=5, d2=5, d0=5)
    advice = run(*checkins, carried_flare=(date(2026, 5, 1), 2.0))
    reason = only(advice, "F1")
    assert reason.status == "see_doctor"
    assert reason.source == "2026-05-01"
    assert {k: reason.evidence[k] for k in ("baseline_mean", "baseline_from", "flare_began")} == {
        "baseline_mean": 2.0,
        "baseline_from": "carried",
        "flare_began": "2026-05-01",
    }
    assert reason.evidence["days_lasted"] == 46
    assert reason.evidence["latest_rest_pain"] == 5.0
    # Back near the baseline for three days: the carried flare has ended.
    settled = run(*rest_days(d3=3, d2=2, d0=3), carried_flare=(date(2026, 5, 1), 2.0))
    assert reasons_of(settled, "F1") == []
    # A carried first day not before the evidence in view is ignored.
    later = run(*rest_days(d3=5, d2=5, d0=5), carried_flare=(date(2026, 6, 12), 2.0))
    assert reasons_of(later, "F1") == []


def test_f2_review_reason() -> None:
    # Weekly means, oldest first: 5, 7, 7, 5; compared with the first week, not the second.
    advice = run(*rest_days(d21=5, d14=7, d7=7, d0=5))
    reason = only(advice, "F2")
    assert reason.status == "see_doctor"
    assert reason.evidence == {
        "weekly_means": [5.0, 7.0, 7.0, 5.0],
        "weeks": 4,
        "latest_rest_day": TODAY,
    }
    assert reason.source == "2026-05-19"
    assert reason.message == RULES_BY_ID["F2"].say("review", weeks=4)
    assert "last 4 weeks" in reason.message


def test_f2_an_improvement_from_the_first_week_is_no_review() -> None:
    assert reasons_of(run(*rest_days(d21=7, d14=5, d7=5, d0=5)), "F2") == []


# --- the engine: actions, ordering, next check-in ---------------------------------------

X, Y, Z, W = "ex-x", "ex-y", "ex-z", "ex-w"
DOSES = tuple(Dose(s, 1, 5, None) for s in (W, X, Y, Z))


def r(rule_id: str, status: str, *exercises: str) -> Reason:
    return Reason(rule_id, status, "", {}, exercises)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reasons", "status", "actions"),
    [
        (
            [r("RF1", "urgent_care"), r("P1", "regress", X), r("V1", "hold", Y)],
            "urgent_care",
            {W: "stop", X: "stop", Y: "stop", Z: "stop"},
        ),
        (
            [
                r("RF3", "see_doctor"),
                r("P1", "regress", W),
                r("P3", "hold", Y),
                r("P4", "progress", X),
            ],
            "see_doctor",
            {W: "regress", X: "hold", Y: "hold", Z: "hold"},
        ),
        (
            [r("F1", "see_doctor", W, X)],
            "see_doctor",
            {W: "regress", X: "regress", Y: "hold", Z: "hold"},
        ),
        (
            [r("P3", "hold", Y), r("P4", "progress", X)],
            "hold",
            {W: "maintain", X: "maintain", Y: "hold", Z: "maintain"},
        ),
        (
            [r("V1", "hold", Y), r("P4", "progress", X, Z)],
            "progress",
            {W: "maintain", X: "progress", Y: "hold", Z: "progress"},
        ),
        (
            [r("P0", "hold", Y), r("P4", "progress", X)],
            "hold",
            {W: "maintain", X: "progress", Y: "hold", Z: "maintain"},
        ),
        (
            [r("P1", "regress", X), r("P3", "hold", X, Y)],
            "regress",
            {W: "maintain", X: "regress", Y: "hold", Z: "maintain"},
        ),
        (
            [r("P3", "hold", X, Y), r("P1", "regress", X)],
            "regress",
            {W: "maintain", X: "regress", Y: "hold", Z: "maintain"},
        ),
        ([], "maintain", {W: "maintain", X: "maintain", Y: "maintain", Z: "maintain"}),
    ],
)
def test_actions(reasons: list[Reason], status: str, actions: dict[str, str]) -> None:
    assert _actions(reasons, DOSES, status) == actions  # type: ignore[arg-type]


def test_reasons_are_ordered_by_severity_then_rule() -> None:
    advice = run(
        ci(
            at(1),
            9,
            cid="all",
            red_flags=frozenset({"fever_or_unwell", "saddle_numbness", "night_pain"}),
            radiating_below_knee=True,
        )
    )
    assert [(x.rule_id, x.status) for x in advice.reasons] == [
        ("RF1", "urgent_care"),
        ("RF2", "see_doctor"),
        ("RF3", "see_doctor"),
        ("RF3", "see_doctor"),
        ("RF4", "hold"),
    ]
    assert advice.status == "urgent_care"
    assert advice.exercises == dict.fromkeys(SLUGS, "stop")


def test_next_checkin_due_with_nothing_known_is_now() -> None:
    assert run().next_checkin_due_at == NOW


def test_next_checkin_due_a_day_after_the_latest_rest_check_in() -> None:
    advice = run(ci(at(3), 2), ci(at(2), 2, "next_morning"), ci(at(1), 2, "before"))
    assert advice.next_checkin_due_at == at(2) + timedelta(days=1)


def test_next_checkin_due_the_morning_after_a_session_without_rest_check_ins() -> None:
    advice = run(logs=(session(at(2)),))
    assert advice.next_checkin_due_at == datetime(2026, 6, 14, 8, 0, tzinfo=UTC)


def test_next_checkin_due_the_morning_after_a_session_since_the_latest_rest_check_in() -> None:
    # An untagged next-morning reading an hour before the session is not its morning after.
    earlier = ci(at(1, hours=1), 2, "next_morning")
    advice = run(earlier, logs=(session(at(1)),))
    assert advice.next_checkin_due_at == datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    tagged = ci(at(1, hours=1), 2, "next_morning", session_id="s1")
    advice = run(tagged, logs=(session(at(1)),))
    assert advice.next_checkin_due_at == datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


def test_next_checkin_due_after_a_session_with_its_next_morning_reading() -> None:
    start = at(2)
    morning = ci(datetime(2026, 6, 14, 7, 0, tzinfo=UTC), 2, "next_morning", session_id="s1")
    advice = run(ci(start - timedelta(hours=1), 2), morning, logs=(session(start),))
    assert advice.next_checkin_due_at == morning.recorded_at + timedelta(days=1)


def test_next_checkin_due_at_eight_local_the_morning_after_an_evening_session() -> None:
    """An evening session in Los Angeles ends on the next UTC day: the morning after is
    08:00 local the next local day, given in the zone of `now`."""
    now = NOW.astimezone(LA)  # 05:00 on 15 June, local
    rest = ci(datetime(2026, 6, 14, 19, 0, tzinfo=LA), 2)
    log = session(datetime(2026, 6, 14, 19, 30, tzinfo=LA))  # ends 20:00 local
    advice = run(rest, now=now, logs=(log,), timezone="America/Los_Angeles")
    due = advice.next_checkin_due_at
    assert due == datetime(2026, 6, 15, 8, 0, tzinfo=LA)
    assert due is not None and due.isoformat() == "2026-06-15T08:00:00-07:00"


# --- the ladder's arithmetic --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dose", "seconds"),
    [
        (Dose("a", 2, 5, 3), 60),  # 2 x 5 x (3 + 3)
        (Dose("a", 2, 5, 3, per_side=True), 120),
        (Dose("a", 1, None, 10), 13),
        (Dose("a", 1, None, 10, per_side=True), 26),
        (Dose("a", 3, 10, None), 90),
        (Dose("a", 1, 4, 0), 12),
        (Dose("a", 0, 5, 3), 0),
    ],
)
def test_volume(dose: Dose, seconds: float) -> None:
    assert volume(dose) == seconds


@pytest.mark.parametrize(
    ("dose", "amount"),
    [
        (Dose("a", 2, 5, 3), 30),
        (Dose("a", 2, 5, 3, per_side=True), 60),
        (Dose("a", 1, None, 10), 10),
        (Dose("a", 3, 10, None), 30),
        (Dose("a", 1, 4, 0), 4),
        (Dose("a", 0, 5, 3), 0),
        (Dose("a", -1, 5, 3), 0),
    ],
)
def test_work(dose: Dose, amount: int) -> None:
    assert work(dose) == amount


@pytest.mark.parametrize(
    ("low", "high", "step", "values"),
    [
        (5, 10, 3, [5, 8, 10]),
        (5, 11, 3, [5, 8, 11]),
        (5, 8, 3, [5, 8]),
        (5, 5, 3, [5]),
        (2, 3, 2, [2, 3]),
    ],
)
def test_steps(low: int, high: int, step: int, values: list[int]) -> None:
    assert _steps(low, high, step) == values


SIDED = CatalogDose("side-plank", 1, 3, 6, per_side=True, name="Side Plank")


@pytest.mark.parametrize(
    ("dose", "expected"),
    [
        # One side only, against a per-side catalog: the rung below is more or as much
        # work, so the exercise is left out rather than "eased" to more work.
        (Dose("side-plank", 1, 6, None), Dose("side-plank", 0, 6, None)),
        (Dose("side-plank", 2, 6, None), Dose("side-plank", 0, 6, None)),
        # Per side as in the catalog: one rung down.
        (Dose("side-plank", 1, 6, None, per_side=True), Dose("side-plank", 1, 3, None, True)),
    ],
)
def test_step_down_is_always_less_work(dose: Dose, expected: Dose) -> None:
    down = step_down(dose, {SIDED.slug: SIDED})
    assert down == expected
    assert work(down) < work(dose)


def test_step_down_walks_a_per_side_ladder_to_left_out() -> None:
    catalog = {SIDED.slug: SIDED}
    rungs = ladder(SIDED)
    dose: Dose | None = rungs[-1]
    seen = []
    while dose is not None and dose.sets > 0:
        seen.append(dose)
        nxt = step_down(dose, catalog)
        assert nxt is not None and work(nxt) < work(dose)
        dose = nxt
    assert seen == list(reversed(rungs))
