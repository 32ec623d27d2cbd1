"""Outcome instruments: worked examples per instrument and properties of every score."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.domain.instruments import AnswerError, Instrument, change, score
from api.services.instruments import load_instruments

INSTRUMENTS = load_instruments()
STARTBACK = INSTRUMENTS["startback"]
ODI = INSTRUMENTS["odi"]
PSFS = INSTRUMENTS["psfs"]
NRS = INSTRUMENTS["nrs-weekly"]
ODI_SECTIONS = [i.id for i in ODI.items]


def startback(agree: set[int], bother: int) -> dict[str, int]:
    return {f"q{n}": int(n in agree) for n in range(1, 9)} | {"q9": bother}


@pytest.mark.parametrize(
    ("agree", "bother", "total", "distress", "band"),
    [
        # Total 3 is the top of low risk, 4 the bottom of medium (Keele's scoring).
        ({1, 2, 3}, 0, 3, 0, "low"),
        ({1, 2, 3, 4}, 0, 4, 0, "medium"),
        # Distress subscale (items 5-9) 3 is still medium; 4 is high.
        ({1, 5, 6, 7}, 2, 4, 3, "medium"),
        ({5, 6, 7}, 3, 4, 4, "high"),
        ({5, 6, 7, 8}, 0, 4, 4, "high"),
        # Item 9 counts only for "very much" (3) and "extremely" (4).
        ({1, 2, 3}, 2, 3, 0, "low"),
        ({1, 2, 3}, 4, 4, 1, "medium"),
        (set(range(1, 9)), 4, 9, 5, "high"),
        (set(), 0, 0, 0, "low"),
    ],
)
def test_startback_totals_subscale_and_bands(
    agree: set[int], bother: int, total: int, distress: int, band: str
) -> None:
    result = score(STARTBACK, startback(agree, bother))
    assert (result.score, result.subscores, result.band) == (total, {"distress": distress}, band)
    # Screening, not a change measure: no minimal important change.
    assert change(STARTBACK, 0, result.score) is None


def test_odi_scores_the_sections_answered_and_skips_one() -> None:
    all_ten = dict.fromkeys(ODI_SECTIONS, 2) | {"pain_intensity": 3, "lifting": 4}
    # (3 + 4 + 8 x 2) / 50 x 100 = 46
    result = score(ODI, all_ten)
    assert (result.score, result.band) == (46.0, "severe")
    # Sex life left out: (3 + 4 + 7 x 2) / 45 x 100 = 46.7
    skipped = {k: v for k, v in all_ten.items() if k != "sex_life"}
    result = score(ODI, skipped)
    assert (result.score, result.band) == (46.7, "severe")
    assert "sex_life" not in result.answers
    # A skipped section may also come as null.
    assert score(ODI, all_ten | {"sex_life": None}).score == 46.7


@pytest.mark.parametrize(
    ("total", "band"),
    [(10, "minimal"), (11, "moderate"), (20, "moderate"), (21, "severe"), (40, "very_severe")],
)
def test_odi_bands_at_their_edges(total: int, band: str) -> None:
    # Ten sections: the score is total x 2.
    answers = dict.fromkeys(ODI_SECTIONS, 0)
    left = total
    for section in ODI_SECTIONS:
        answers[section] = min(5, left)
        left -= answers[section]
    assert score(ODI, answers).band == band


def test_odi_needs_eight_sections() -> None:
    seven = dict.fromkeys(ODI_SECTIONS[:7], 1)
    with pytest.raises(AnswerError) as caught:
        score(ODI, seven)
    assert {f for f, _, _ in caught.value.errors} == {f"answers.{s}" for s in ODI_SECTIONS[7:]}


def test_psfs_is_the_mean_of_three_to_five_activities() -> None:
    acts = [{"activity": a, "score": s} for a, s in [("lifting", 2), ("sitting", 5), ("run", 6)]]
    assert score(PSFS, {"activities": acts}).score == 4.3
    for wrong in (acts[:2], acts * 2):
        with pytest.raises(AnswerError) as caught:
            score(PSFS, {"activities": wrong})
        assert caught.value.errors[0][0] == "answers.activities"
    bad = [*acts[:2], {"activity": "walk", "score": 11}]
    with pytest.raises(AnswerError) as caught:
        score(PSFS, {"activities": bad})
    assert caught.value.errors[0][0] == "answers.activities.2.score"


def test_errors_name_each_item() -> None:
    with pytest.raises(AnswerError) as caught:
        score(STARTBACK, startback({1}, 0) | {"q3": 2, "q9": True, "q10": 1})
    fields = {f: code for f, _, code in caught.value.errors}
    assert fields == {
        "answers.q10": "unknown",
        "answers.q3": "out_of_range",
        "answers.q9": "out_of_range",
    }
    with pytest.raises(AnswerError) as caught:
        score(NRS, {})
    assert caught.value.errors == [("answers.pain", "this item must be answered", "missing")]


@pytest.mark.parametrize(
    ("instrument", "first", "now", "points", "percent", "meaningful", "direction"),
    [
        # Ostelo 2008: 2 points or 30% on pain; 10 points or 30% on the ODI.
        ("nrs-weekly", 6, 4, -2.0, -33.3, True, "improved"),
        ("nrs-weekly", 8, 7, -1.0, -12.5, False, "improved"),
        ("nrs-weekly", 3, 4, 1.0, 33.3, True, "worsened"),
        ("odi", 40, 30, -10.0, -25.0, True, "improved"),
        ("odi", 60, 52, -8.0, -13.3, False, "improved"),
        ("odi", 20, 14, -6.0, -30.0, True, "improved"),
        # PSFS: higher is better, 2 points on the mean (Stratford 1995), no percent rule.
        ("psfs", 2, 4, 2.0, 100.0, True, "improved"),
        ("psfs", 2, 3, 1.0, 50.0, False, "improved"),
        ("psfs", 5, 5, 0.0, 0.0, False, "unchanged"),
        ("odi", 0, 4, 4.0, None, False, "worsened"),
    ],
)
def test_change_from_first(
    instrument: str,
    first: float,
    now: float,
    points: float,
    percent: float | None,
    meaningful: bool,
    direction: str,
) -> None:
    found = change(INSTRUMENTS[instrument], first, now)
    assert found is not None
    assert (found.points, found.percent, found.meaningful, found.direction) == (
        points,
        percent,
        meaningful,
        direction,
    )


def answers_for(instrument: Instrument) -> st.SearchStrategy[dict[str, Any]]:
    if instrument.scoring.method == "activities_mean":
        activity = st.fixed_dictionaries(
            {"activity": st.sampled_from(["a", "b", "c", "d", "e"]), "score": st.integers(0, 10)}
        )
        return st.fixed_dictionaries(
            {
                "activities": st.lists(
                    activity, min_size=3, max_size=5, unique_by=lambda a: a["activity"]
                )
            }
        )
    picks = {item.id: st.sampled_from([o.value for o in item.options]) for item in instrument.items}
    if instrument.scoring.min_answered is None:
        return st.fixed_dictionaries(picks)
    # Up to the allowed number of items left out.
    spare = len(instrument.items) - instrument.scoring.min_answered
    return st.fixed_dictionaries(picks).flatmap(
        lambda full: st.sets(st.sampled_from(sorted(full)), max_size=spare).map(
            lambda out: {k: v for k, v in full.items() if k not in out}
        )
    )


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
@given(data=st.data())
def test_every_score_is_in_range_and_its_band_agrees(name: str, data: st.DataObject) -> None:
    instrument = INSTRUMENTS[name]
    result = score(instrument, data.draw(answers_for(instrument)))
    assert instrument.scoring.min <= result.score <= instrument.scoring.max
    if instrument.bands:
        # Exactly the bands listed: one, and the first whose conditions hold.
        assert result.band in {b.band for b in instrument.bands}
        values = {"score": result.score, **result.subscores}
        first = next(b for b in instrument.bands if all(c.holds(values) for c in b.when))
        assert result.band == first.band
    else:
        assert result.band is None
    # Scoring what was stored gives the same score (stored answers replay).
    assert score(instrument, result.answers) == result


@given(first=st.floats(0, 100), now=st.floats(0, 100))
def test_change_is_antisymmetric_in_direction(first: float, now: float) -> None:
    there, back = change(ODI, first, now), change(ODI, now, first)
    assert there is not None and back is not None
    assert there.points == -back.points
    flipped = {"improved": "worsened", "worsened": "improved", "unchanged": "unchanged"}
    assert back.direction == flipped[there.direction]
