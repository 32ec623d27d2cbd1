"""Properties of the rule service over random histories (hypothesis)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.domain.ladder import CatalogDose
from api.domain.rules import evaluate
from api.domain.types import (
    CAUDA_EQUINA_FLAGS,
    SERIOUS_CAUSE_FLAGS,
    SEVERITY,
    CheckIn,
    Dose,
    History,
    LogEntry,
    SessionLog,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
CATALOG = {
    c.slug: c
    for c in (
        CatalogDose("lat-pulldown", 1, 5, 10, 3, 5),
        CatalogDose("glute-bridge", 1, 5, 10, 2, 3),
        CatalogDose("knee-hug", 1, 5, 5, 10, 15),
    )
}
DOSES = (
    Dose("lat-pulldown", 1, 5, 3),
    Dose("glute-bridge", 1, 5, 2),
    Dose("knee-hug", 1, 5, 10),
)
SLUGS = [d.exercise_slug for d in DOSES]
PHASES = ["daily", "before", "during", "after", "next_morning"]
SESSION_IDS = ["s1", "s2", "s3"]
OTHER_FLAGS = sorted(SERIOUS_CAUSE_FLAGS | {"night_pain"})

# How aggressive an outcome is: higher means more load. Hold and maintain both keep
# the dose, so they rank the same.
STATUS_PUSH = {
    "progress": 2,
    "maintain": 1,
    "hold": 1,
    "regress": 0,
    "see_doctor": -1,
    "urgent_care": -2,
}
ACTION_PUSH = {"progress": 1, "maintain": 0, "hold": 0, "regress": -1, "stop": -2}

minutes_ago = st.integers(min_value=0, max_value=30 * 24 * 60)


@st.composite
def checkins(draw: st.DrawFn, flags: bool = True) -> CheckIn:
    phase = draw(st.sampled_from(PHASES))
    red = (
        frozenset(draw(st.sets(st.sampled_from(OTHER_FLAGS), max_size=1))) if flags else frozenset()
    )
    return CheckIn(
        id=f"c{draw(st.integers(0, 10**9))}",
        recorded_at=NOW - timedelta(minutes=draw(minutes_ago)),
        phase=phase,  # type: ignore[arg-type]
        pain=draw(st.integers(0, 10)),
        session_id=draw(st.sampled_from([None, *SESSION_IDS])),
        exercise_slug=draw(st.sampled_from(SLUGS)) if phase == "during" else None,
        red_flags=red if draw(st.integers(0, 9)) == 0 else frozenset(),
        red_flags_resolved=draw(st.integers(0, 19)) == 0,
    )


@st.composite
def logs(draw: st.DrawFn) -> SessionLog:
    start = NOW - timedelta(minutes=draw(minutes_ago) + 60)
    entries = []
    for dose in DOSES:
        if draw(st.booleans()):
            reps = draw(st.integers(0, 12))
            entries.append(
                LogEntry(
                    exercise_slug=dose.exercise_slug,
                    prescribed=dose,
                    sets_completed=draw(st.integers(0, 2)),
                    reps=(reps,),
                    hold_seconds=draw(st.sampled_from([None, dose.hold_seconds])),
                    rpe=draw(st.one_of(st.none(), st.integers(0, 10))),
                    pain_during=draw(st.one_of(st.none(), st.integers(0, 10))),
                    skipped=draw(st.integers(0, 9)) == 0,
                )
            )
    return SessionLog(
        session_id=draw(st.sampled_from(SESSION_IDS)) + f"-{draw(st.integers(0, 99))}",
        started_at=start,
        ended_at=start + timedelta(minutes=30),
        entries=tuple(entries),
    )


histories = st.builds(
    lambda cs, ls: History(checkins=tuple(cs), logs=tuple(ls), doses=DOSES),
    st.lists(checkins(), max_size=40),
    st.lists(logs(), max_size=6),
)


def run(history: History) -> object:
    return evaluate(history, NOW, catalog=CATALOG)


@settings(max_examples=150, deadline=None)
@given(histories, st.sets(st.sampled_from(sorted(CAUDA_EQUINA_FLAGS)), min_size=1), minutes_ago)
def test_any_cauda_equina_flag_means_urgent_care(
    history: History, flags: set[str], ago: int
) -> None:
    flagged = CheckIn(
        "emergency", NOW - timedelta(minutes=ago), "daily", 0, red_flags=frozenset(flags)
    )
    # Keep only resolutions from before the flag: nothing has resolved it.
    kept = tuple(
        c for c in history.checkins if not (c.resolves and c.recorded_at > flagged.recorded_at)
    )
    advice = evaluate(
        History(checkins=(*kept, flagged), logs=history.logs, doses=DOSES), NOW, catalog=CATALOG
    )
    assert advice.status == "urgent_care"
    assert set(advice.exercises.values()) == {"stop"}
    assert advice.reasons[0].rule_id == "RF1"


@settings(max_examples=150, deadline=None)
@given(histories, st.sampled_from(OTHER_FLAGS), st.integers(0, 13 * 24 * 60))
def test_any_other_red_flag_means_at_least_see_a_doctor(
    history: History, flag: str, ago: int
) -> None:
    flagged = CheckIn("flag", NOW - timedelta(minutes=ago), "daily", 0, red_flags=frozenset({flag}))
    kept = tuple(
        c for c in history.checkins if not (c.resolves and c.recorded_at > flagged.recorded_at)
    )
    advice = evaluate(
        History(checkins=(*kept, flagged), logs=history.logs, doses=DOSES), NOW, catalog=CATALOG
    )
    assert SEVERITY[advice.status] >= SEVERITY["see_doctor"]
    assert "progress" not in advice.exercises.values()


@settings(max_examples=300, deadline=None)
@given(
    histories,
    st.sampled_from(PHASES),
    st.sampled_from([None, *SESSION_IDS]),
    st.sampled_from(SLUGS),
    st.integers(0, 10),
    st.integers(0, 10),
)
def test_higher_pain_never_gives_more_aggressive_advice(
    history: History, phase: str, session_id: str | None, slug: str, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    latest = max(
        [c.recorded_at for c in history.checkins] + [log.ended_at for log in history.logs],
        default=NOW - timedelta(days=1),
    )
    when = min(NOW, latest + timedelta(minutes=1))

    def with_pain(pain: int) -> object:
        newest = CheckIn(
            "newest",
            when,
            phase,  # type: ignore[arg-type]
            pain,
            session_id=session_id,
            exercise_slug=slug if phase == "during" else None,
        )
        return run(History(checkins=(*history.checkins, newest), logs=history.logs, doses=DOSES))

    calm, worse = with_pain(low), with_pain(high)
    assert STATUS_PUSH[worse.status] <= STATUS_PUSH[calm.status]  # type: ignore[attr-defined]
    for exercise, action in worse.exercises.items():  # type: ignore[attr-defined]
        assert ACTION_PUSH[action] <= ACTION_PUSH[calm.exercises[exercise]]  # type: ignore[attr-defined]


def _progressing_base() -> History:
    """Two comfortable sessions at the current doses, pain settled each next morning."""
    good = []
    extra = []
    for n in range(2):
        start = NOW - timedelta(days=2 * n + 2)
        sid = f"g{n}"
        entries = tuple(
            LogEntry(d.exercise_slug, d, d.sets, (d.reps or 0,) * d.sets, d.hold_seconds, 3, 1)
            for d in DOSES[2:]
        )
        good.append(SessionLog(sid, start, start + timedelta(minutes=30), entries))
        extra.append(CheckIn(f"b{n}", start - timedelta(hours=1), "before", 1, session_id=sid))
        extra.append(
            CheckIn(f"m{n}", start + timedelta(hours=18), "next_morning", 1, session_id=sid)
        )
    return History(checkins=tuple(extra), logs=tuple(good), doses=DOSES[2:])


@st.composite
def progressing_histories(draw: st.DrawFn) -> History:
    """Histories that progress unless pain says otherwise, plus random check-ins."""
    base = _progressing_base()
    noise = draw(st.lists(checkins(flags=False), max_size=8))
    return History(checkins=(*base.checkins, *noise), logs=base.logs, doses=base.doses)


def test_the_progressing_base_does_progress() -> None:
    """Without this, the property below could pass for a service that never progresses."""
    assert run(_progressing_base()).status == "progress"  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(
    progressing_histories(),
    st.sampled_from(PHASES),
    st.sampled_from([None, "g0", "g1"]),
    st.integers(0, 10),
    st.integers(0, 10),
)
def test_higher_pain_never_gives_more_aggressive_advice_where_progress_is_possible(
    history: History, phase: str, session_id: str | None, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    latest = max(c.recorded_at for c in history.checkins)
    when = min(NOW, latest + timedelta(minutes=1))

    def with_pain(pain: int) -> Any:
        newest = CheckIn("newest", when, phase, pain, session_id=session_id)  # type: ignore[arg-type]
        return run(History(checkins=(*history.checkins, newest), logs=history.logs,
                           doses=history.doses))  # fmt: skip

    calm, worse = with_pain(low), with_pain(high)
    assert STATUS_PUSH[worse.status] <= STATUS_PUSH[calm.status]
    for exercise, action in worse.exercises.items():
        assert ACTION_PUSH[action] <= ACTION_PUSH[calm.exercises[exercise]]


@st.composite
def rising_histories(draw: st.DrawFn) -> History:
    """Perfect sessions (only the pain trend can stop a progression) and rest pain that
    never falls and ends higher than it started, across every rest check-in."""
    good: list[SessionLog] = []
    moments: list[tuple[datetime, str, str | None]] = []
    for n in range(draw(st.integers(2, 4))):
        start = NOW - timedelta(days=2 * n + 1)
        sid = f"g{n}"
        good.append(
            SessionLog(
                sid,
                start,
                start + timedelta(minutes=30),
                tuple(
                    LogEntry(
                        d.exercise_slug, d, d.sets, (d.reps or 0,) * d.sets, d.hold_seconds, 3, 1
                    )
                    for d in DOSES
                ),
            )
        )
        moments.append((start + timedelta(hours=18), "next_morning", sid))
    for d in draw(st.lists(st.integers(0, 30), min_size=2, max_size=25, unique=True)):
        moments.append((NOW - timedelta(days=d, minutes=7), "daily", None))
    moments.sort()
    pains = sorted(draw(st.lists(st.integers(0, 9), min_size=len(moments), max_size=len(moments))))
    if pains[0] == pains[-1]:
        pains[-1] += 1
    checkins = tuple(
        CheckIn(f"r{i}", when, phase, pain, session_id=sid)  # type: ignore[arg-type]
        for i, ((when, phase, sid), pain) in enumerate(zip(moments, pains, strict=True))
    )
    return History(checkins=checkins, logs=tuple(good), doses=DOSES)


@settings(max_examples=200, deadline=None)
@given(rising_histories())
def test_rising_pain_never_progresses(history: History) -> None:
    advice = run(history)
    assert advice.status != "progress"  # type: ignore[attr-defined]
    assert "progress" not in advice.exercises.values()  # type: ignore[attr-defined]


@settings(max_examples=150, deadline=None)
@given(histories, st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_arrival_order(
    history: History, rnd: random.Random
) -> None:
    first = run(history)
    shuffled_checkins = list(history.checkins)
    shuffled_logs = list(history.logs)
    rnd.shuffle(shuffled_checkins)
    rnd.shuffle(shuffled_logs)
    again = run(History(checkins=tuple(shuffled_checkins), logs=tuple(shuffled_logs), doses=DOSES))
    assert again == first
    assert run(history) == first


def test_perfect_sessions_do_progress_without_a_rising_trend() -> None:
    """The rising-pain property above can fail: flat pain with the same sessions progresses."""
    good = []
    mornings = []
    for n in range(2):
        start = NOW - timedelta(days=2 * n + 1)
        good.append(
            SessionLog(
                f"g{n}",
                start,
                start + timedelta(minutes=30),
                (LogEntry("knee-hug", DOSES[2], 1, (5,), 10, 3, 1),),
            )
        )
        mornings.append(
            CheckIn(f"m{n}", start + timedelta(hours=18), "next_morning", 0, session_id=f"g{n}")
        )
    flat = [CheckIn(f"f{d}", NOW - timedelta(days=d), "daily", 2) for d in range(10)]
    advice = evaluate(
        History(checkins=(*flat, *mornings), logs=tuple(good), doses=(DOSES[2],)),
        NOW,
        catalog=CATALOG,
    )
    assert advice.exercises["knee-hug"] == "progress"
