"""Steps as one person should follow them (issue 17): the article's text, with the dose
it names replaced by theirs."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from api.domain.steps import personal_steps

ARTICLE = [
    "Lie face down on the mat.",
    "Hold the position for 2 to 3 seconds, then return to the starting position.",
    "Repeat 5 to 10 times daily, or 3 to 5 times twice a day.",
    "Repeat at least 5 to 10 times; the number can be increased over time.",
    "Hold for a few seconds.",
    "Repeat 10 times, then change position and repeat the same on the other side.",
]


def test_the_dose_replaces_the_articles_numbers_and_the_rest_is_kept() -> None:
    assert personal_steps(ARTICLE, reps=3, hold_seconds=5, sets=2) == [
        "Lie face down on the mat.",
        "Hold the position for 5 seconds, then return to the starting position.",
        "Repeat 3 times daily.",
        "Repeat 3 times.",
        "Hold for 5 seconds.",
        "Repeat 3 times, then change position and repeat the same on the other side.",
        "Do 2 sets, resting between them.",
    ]


def test_a_step_naming_another_count_or_time_gives_way_to_the_dose() -> None:
    """Wordings the substitution does not know keep no number that contradicts the dose:
    the step goes, and one saying the dose takes its place."""
    for step in (
        "Repeat the exercise 10 times.",
        "Do 10 to 15 repetitions.",
        "Hold for up to 10 seconds.",
        "Hold the stretch for 1 minute.",
        "Hold it for 10 seconds or longer.",
        "Do 10 reps, then rest. Repeat 2 to 3 times.",
        "Repeat 4 times a day.",
    ):
        assert personal_steps(["Lie down.", step], reps=3, hold_seconds=5, sets=1) == [
            "Lie down.",
            "Do 3 reps, holding each for 5 seconds.",
        ], step
    assert personal_steps(["Repeat 10-15 times per side."], 3, None, 1) == [
        "Repeat 3 times per side."
    ]
    # A breath held is not the exercise's hold, and is kept as written.
    breath = "Breathe in deeply and hold for 3 seconds."
    assert personal_steps([breath], reps=3, hold_seconds=5, sets=1) == [breath]


def test_one_rep_one_second_one_set() -> None:
    assert personal_steps(ARTICLE[1:3], reps=1, hold_seconds=1, sets=1) == [
        "Hold the position for 1 second, then return to the starting position.",
        "Repeat once daily.",
    ]


def test_a_dose_without_reps_or_hold_leaves_those_sentences_as_written() -> None:
    # Only the invitation to do more goes: the rule service decides that.
    assert personal_steps(ARTICLE, reps=None, hold_seconds=None, sets=1) == [
        "Lie face down on the mat.",
        ARTICLE[1],
        "Repeat 5 to 10 times daily.",
        "Repeat at least 5 to 10 times.",
        ARTICLE[4],
        ARTICLE[5],
    ]


sentences = st.lists(
    st.one_of(
        st.sampled_from(ARTICLE),
        st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=40),
    ),
    max_size=8,
)


@given(sentences, st.integers(1, 30), st.integers(1, 60), st.integers(1, 3))
def test_no_step_names_a_count_or_hold_other_than_the_dose(
    steps: list[str], reps: int, hold: int, sets: int
) -> None:
    out = personal_steps(steps, reps=reps, hold_seconds=hold, sets=sets)
    text = " ".join(out)
    counts = {int(n) for n in re.findall(r"(\d+) (?:times|reps?)\b", text)}
    holds = {int(n) for n in re.findall(r"(\d+) seconds?", text)}
    assert counts <= {reps} and holds <= {hold}
    assert not re.search(r"\d+ to \d+ (times|seconds)|minute|or longer", text)
    assert "increased over time" not in text
    for before, after in zip(steps, out, strict=False):
        if not re.search(r"\d|few", before):
            assert after == before
