"""Outcome measures in the rules: STarT Back's high risk (SB1) and which measure is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api.domain.instruments import change
from api.domain.outcome_rules import FUNCTION_MEASURES, SCHEDULE, improved, measures_due
from api.domain.rules import evaluate
from api.domain.types import CheckIn, History, MeasureDue, Outcome, Reason
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


def test_f2_reads_each_measures_minimal_important_change_from_its_instrument() -> None:
    published = load_instruments()
    for measure in FUNCTION_MEASURES:
        mic = published[measure.instrument].minimal_important_change
        assert mic is not None
        assert (measure.mic_points, measure.mic_percent) == (mic.points, mic.percent)
        assert measure.better == published[measure.instrument].better


def f2(*outcomes: Outcome, risk_factors: frozenset[str] = frozenset()) -> list[Reason]:
    advice = evaluate(History(outcomes=outcomes, risk_factors=risk_factors), NOW)
    return [r for r in advice.reasons if r.rule_id == "F2"]


def psfs(
    days_ago: float, *scores: int, names: tuple[str, ...] = ("walk", "lift", "sit")
) -> Outcome:
    """A PSFS: the activities named and rated, and their mean as the score."""
    at = NOW - timedelta(days=days_ago)
    rated = tuple(zip(names, scores, strict=True))
    mean = round(sum(scores) / len(scores), 1)
    return Outcome(f"psfs-{days_ago}", "psfs", at, mean, None, rated)


def test_f2_asks_for_a_review_when_the_odi_has_not_improved_over_4_weeks() -> None:
    found = f2(outcome("odi", 30, 44, "severe"), outcome("odi", 2, 40, "moderate"))
    assert [(r.status, r.source) for r in found] == [("see_doctor", "odi-2")]
    assert found[0].evidence == {
        "instrument": "odi",
        "weeks": 4,
        "earlier_outcome_id": "odi-30",
        "earlier_recorded_at": "2026-11-01T09:00:00.000000Z",
        "earlier_score": 44,
        "latest_outcome_id": "odi-2",
        "latest_recorded_at": "2026-11-29T09:00:00.000000Z",
        "latest_score": 40,
        "days_apart": 28,
    }
    # The message says since when: the earlier answer may be far older than the window.
    assert "Oswestry Disability Index score has not improved since 2026-11-01" in (found[0].message)
    assert "(44, then 40)" in found[0].message
    # It stands on the latest answers alone: weeks of silence since do not clear it.
    silent = evaluate(
        History(outcomes=(outcome("odi", 30, 44), outcome("odi", 2, 40))), NOW + timedelta(days=60)
    )
    assert silent.status == "see_doctor"


def test_a_meaningful_improvement_by_points_or_percent_asks_for_nothing() -> None:
    assert f2(outcome("odi", 30, 44), outcome("odi", 1, 34)) == []  # 10 points
    assert f2(outcome("odi", 30, 30), outcome("odi", 1, 21)) == []  # 9 points, 30%
    assert f2(outcome("odi", 30, 30), outcome("odi", 1, 22)) != []  # 8 points, 26.7%
    assert f2(psfs(30, 3, 3, 3), psfs(1, 5, 5, 5)) == []  # 2 points up
    assert f2(psfs(30, 3, 3, 3), psfs(1, 5, 5, 4)) != []  # 1.7
    # Kept to one decimal as scores are: 2.6 -> 4.6 is the 2 points (not 1.9999...).
    assert f2(psfs(30, 3, 3, 3, 2, 2, names=tuple("abcde")), psfs(1, 5, 5, 5, 4, 4,
              names=tuple("abcde"))) == []  # fmt: skip
    # Worse is not better, whichever way the measure runs.
    assert f2(outcome("odi", 30, 30), outcome("odi", 1, 50)) != []
    assert f2(psfs(30, 5, 5, 5), psfs(1, 2, 2, 2)) != []


def test_a_psfs_compares_the_activities_rated_both_times() -> None:
    # Gardening went from 2 to 6; the newly named activity says nothing about change.
    earlier = psfs(30, 2, 3, names=("Gardening", "Running"))
    latest = psfs(1, 6, 1, names=("gardening", "Lifting"))
    assert f2(earlier, latest) == []
    # Shared activities not improving ask for a review, showing which were compared.
    stuck = f2(earlier, psfs(1, 3, 2, names=("Running", "Lifting")))
    assert [(r.evidence["activities"], r.evidence["earlier_score"]) for r in stuck] == [
        (["Running"], 3)
    ]
    # Nothing in common: nothing to compare.
    assert f2(earlier, psfs(1, 1, 1, names=("Lifting", "Sitting"))) == []
    assert "Scale score on the activities you rated both times has not" in stuck[0].message
    # One activity compared alone needs 3 points: 2 is within how much one rating moves.
    one = psfs(30, 2, 5, 5, names=("Running", "Walking", "Sitting"))
    assert f2(one, psfs(1, 4, 5, 5, names=("Running", "Cycling", "Lifting"))) != []
    assert f2(one, psfs(1, 5, 5, 5, names=("Running", "Cycling", "Lifting"))) == []
    # The same activities all rated again: the mean, and the measure's own 2 points.
    assert f2(psfs(30, 2, 2, 2), psfs(1, 4, 4, 4)) == []


def test_the_message_names_the_persons_own_day() -> None:
    # 20:00 on 1 November in Los Angeles is 2 November in UTC.
    evening = datetime(2026, 11, 2, 4, tzinfo=UTC)
    earlier = Outcome("o1", "odi", evening, 44)
    found = evaluate(
        History(outcomes=(earlier, outcome("odi", 1, 44)), timezone="America/Los_Angeles"), NOW
    )
    (review,) = [r for r in found.reasons if r.rule_id == "F2"]
    assert "improved since 2026-11-01 (44, then 44)" in review.message


def test_no_review_while_the_latest_shows_little_limitation() -> None:
    # ODI 20 is minimal disability; a PSFS of 7 is within 3 points of the level before.
    assert f2(outcome("odi", 30, 20), outcome("odi", 1, 20)) == []
    assert f2(outcome("odi", 30, 21), outcome("odi", 1, 20.2)) != []
    assert f2(psfs(30, 7, 7, 7), psfs(1, 7, 7, 7)) == []
    assert f2(psfs(30, 6, 6, 6), psfs(1, 6, 6, 6)) != []


def test_the_pair_spans_the_window_and_risk_factors_shorten_it() -> None:
    three_weeks = (outcome("odi", 22, 40), outcome("odi", 1, 40))
    assert f2(*three_weeks) == []
    # A day early still spans it (a measure due every 4 weeks answered on day 27).
    assert f2(outcome("odi", 28, 40), outcome("odi", 1, 40)) != []
    assert f2(outcome("odi", 27.5, 40), outcome("odi", 1, 40)) == []
    shortened = f2(*three_weeks, risk_factors=frozenset({"steroids"}))
    assert [r.evidence["weeks"] for r in shortened] == [2]
    assert shortened[0].evidence["risk_factors"] == ["steroids"]


def test_the_latest_is_compared_with_the_latest_answer_a_window_before_it() -> None:
    # 60 then 40 was an improvement; 40 then 39 over the last 4 weeks is not.
    answered = (outcome("odi", 60, 60), outcome("odi", 31, 40), outcome("odi", 2, 39))
    assert [r.evidence["earlier_outcome_id"] for r in f2(*answered)] == ["odi-31"]
    # And a later answer showing the improvement clears it.
    assert f2(*answered, outcome("odi", 0.5, 28)) == []


def test_rest_pain_and_each_measure_give_their_own_reason() -> None:
    weeks = tuple(CheckIn(f"r{d}", NOW - timedelta(days=d), "daily", 5) for d in range(0, 28, 2))
    both = (outcome("odi", 30, 44), outcome("odi", 1, 44), psfs(30, 4, 4, 4))
    advice = evaluate(History(checkins=weeks, outcomes=(*both, psfs(1, 4, 4, 4))), NOW)
    found = [r for r in advice.reasons if r.rule_id == "F2"]
    assert [r.evidence.get("instrument") for r in found] == [None, "odi", "psfs"]
    assert advice.status == "see_doctor"


INSTRUMENTS = load_instruments()
ODI_SCORES = st.integers(0, 1000).map(lambda n: n / 10)  # 0-100, to one decimal
PSFS_SCORES = st.integers(0, 100).map(lambda n: n / 10)  # 0-10, to one decimal


@given(earlier=ODI_SCORES, latest=ODI_SCORES)
def test_f2_on_the_odi_fires_exactly_when_the_change_from_it_is_not_a_meaningful_gain(
    earlier: float, latest: float
) -> None:
    # The rule and the summary's `change_from_first` judge one change the same way.
    judged = change(INSTRUMENTS["odi"], earlier, latest)
    assert judged is not None
    gained = judged.meaningful and judged.direction == "improved"
    found = f2(outcome("odi", 40, earlier), outcome("odi", 1, latest))
    assert bool(found) == (latest > 20 and not gained)
    assert improved(FUNCTION_MEASURES[0], earlier, latest) == gained


@given(earlier=PSFS_SCORES, latest=PSFS_SCORES)
def test_psfs_improvement_is_judged_as_its_change_from_first_is(
    earlier: float, latest: float
) -> None:
    judged = change(INSTRUMENTS["psfs"], earlier, latest)
    assert judged is not None
    assert improved(FUNCTION_MEASURES[1], earlier, latest) == (
        judged.meaningful and judged.direction == "improved"
    )
