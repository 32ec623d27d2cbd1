"""Outcome measures in the rules: STarT Back's high risk (SB1) and which measure is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.domain.outcome_rules import SCHEDULE, measures_due
from api.domain.rules import evaluate
from api.domain.types import CheckIn, History, MeasureDue, Outcome
from api.services.instruments import load_instruments

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def outcome(instrument: str, days_ago: float, score: float = 0, band: str | None = None) -> Outcome:
    at = NOW - timedelta(days=days_ago)
    return Outcome(f"{instrument}-{days_ago}", instrument, at, score, band)


def rest(days_ago: float, pain: int = 2) -> CheckIn:
    return CheckIn(f"c{days_ago}", NOW - timedelta(days=days_ago), "daily", pain)


def test_the_schedule_is_the_one_the_instruments_publish() -> None:
    published = {i.instrument: i.due_every_days for i in load_instruments().values()}
    scheduled = {
        name: (every.days if every else None) for names, every in SCHEDULE for name in names
    }
    assert scheduled == published


def test_a_new_person_is_asked_for_every_measure_now() -> None:
    assert measures_due(()) == (
        MeasureDue(("startback",), None),
        MeasureDue(("nrs-weekly",), None),
        MeasureDue(("odi", "psfs"), None),
    )


def test_each_measure_is_next_due_from_its_latest_answer() -> None:
    answered = (
        outcome("startback", 20, 2, "low"),
        outcome("nrs-weekly", 10),
        outcome("nrs-weekly", 3),
        outcome("psfs", 30),
        outcome("odi", 5),
    )
    # STarT Back once; pain a week after the latest; the ODI or the PSFS 4 weeks after
    # the latest of either.
    assert measures_due(answered) == (
        MeasureDue(("nrs-weekly",), NOW - timedelta(days=3) + timedelta(days=7)),
        MeasureDue(("odi", "psfs"), NOW - timedelta(days=5) + timedelta(days=28)),
    )


def test_sb1_stands_on_the_latest_startback_only_and_changes_nothing_else() -> None:
    checkins = (rest(2), rest(1))
    quiet = evaluate(History(checkins=checkins), NOW)
    high = evaluate(History(checkins=checkins, outcomes=(outcome("startback", 9, 6, "high"),)), NOW)
    reasons = {r.rule_id: r for r in high.reasons}
    assert set(reasons) == {r.rule_id for r in quiet.reasons} | {"SB1"}
    assert reasons["SB1"].evidence == {
        "outcome_id": "startback-9",
        "recorded_at": "2026-11-22T09:00:00.000000Z",
        "score": 6,
        "band": "high",
    }
    # The status and every action are what they were without it.
    assert (high.status, high.exercises) == (quiet.status, quiet.exercises)
    # A later answer that is not high risk clears it.
    later = (outcome("startback", 9, 6, "high"), outcome("startback", 1, 4, "medium"))
    cleared = evaluate(History(checkins=checkins, outcomes=later), NOW)
    assert "SB1" not in {r.rule_id for r in cleared.reasons}


def test_no_measure_is_asked_for_while_the_advice_is_urgent_care() -> None:
    flag = CheckIn("c", NOW, "daily", 6, red_flags=frozenset({"saddle_numbness"}))
    advice = evaluate(History(checkins=(flag,)), NOW)
    assert advice.status == "urgent_care" and advice.measures_due == ()
    assert evaluate(History(checkins=(rest(0),)), NOW).measures_due != ()


@given(
    bands=st.lists(st.sampled_from(["low", "medium", "high"]), min_size=1, max_size=5),
)
def test_sb1_fires_exactly_when_the_latest_is_high(bands: list[str]) -> None:
    answered = tuple(outcome("startback", 10 - n, 5, band) for n, band in enumerate(bands))
    advice = evaluate(History(outcomes=answered), NOW)
    assert ("SB1" in {r.rule_id for r in advice.reasons}) == (bands[-1] == "high")
