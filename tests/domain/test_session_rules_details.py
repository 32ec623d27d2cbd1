"""The details of P0-P4 and V1 (api/domain/session_rules.py), one table each: exact
messages of a regress, exact evidence and sources of every reason, each condition of a
comfortable session on its own, and the weekly volume V1 counts.

Helpers are called directly (`eased`, `gate_failures`, `_weekly_volume_done`,
`p0_progression_gate`) where that pins a behaviour most plainly; everything else goes
through `evaluate`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.domain import progression_rules, session_rules
from api.domain.evidence import Context, context, iso
from api.domain.ladder import CatalogDose
from api.domain.rule_table import RULES_BY_ID
from api.domain.rules import WINDOW, evaluate
from api.domain.thresholds import DEFAULT_THRESHOLDS, Thresholds
from api.domain.types import Advice, CheckIn, Dose, History, LogEntry, Reason, SessionLog

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
_ids = itertools.count()

LAT = CatalogDose("lat-pulldown", 1, 5, 10, 3, 5, harder="wide-dumbbell-row", name="Lat Pulldown")
ROW = CatalogDose(
    "wide-dumbbell-row", 1, 10, 15, 3, 5, easier="lat-pulldown", name="Wide Dumbbell Row"
)
BRIDGE = CatalogDose("glute-bridge", 1, 5, 10, 2, 3, name="Glute Bridge")
CURL = CatalogDose("partial-curl", 1, 10, 15, 2, 2, name="Partial Curl")
HUG = CatalogDose("knee-hug", 1, 5, 5, 10, 15, name="Knee Hug")
# Its floor (8 reps of 10 s) is more work than the knee hug's first dose (5 of 10 s).
SIDE = CatalogDose("side-plank", 1, 8, 12, 10, 20, easier="knee-hug", name="Side Plank")
CATALOG = {c.slug: c for c in (LAT, ROW, BRIDGE, CURL, HUG, SIDE)}

LAT_DOSE = Dose("lat-pulldown", 1, 5, 3)
BRIDGE_DOSE = Dose("glute-bridge", 1, 5, 2)
CURL_DOSE = Dose("partial-curl", 1, 10, 2)
HUG_DOSE = Dose("knee-hug", 1, 5, 10)
ROUTINE = (LAT_DOSE, BRIDGE_DOSE, CURL_DOSE, HUG_DOSE)
ROW_FLOOR = Dose("wide-dumbbell-row", 1, 10, 3)
SIDE_FLOOR = Dose("side-plank", 1, 8, 10)
BOTTOM_HUG = Dose("knee-hug", 1, 3, 3)  # the lowest rung of the knee hug's ladder
BOTTOM_BRIDGE = Dose("glute-bridge", 1, 3, 2)  # the lowest rung of the glute bridge's
HUG_OUT = Dose("knee-hug", 0, 3, 3)
BRIDGE_OUT = Dose("glute-bridge", 0, 3, 2)
LAT_OUT = Dose("lat-pulldown", 0, 3, 3)
BRIDGE_TOP = Dose("glute-bridge", 3, 10, 3)  # top of its ladder, nothing harder
SMALL = (HUG_DOSE, CURL_DOSE)  # steps that fit under V1's cap together


def at(days_ago: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days_ago, hours=hours)


def ci(when: datetime, pain: int, phase: str = "daily", **kw: Any) -> CheckIn:
    kw.setdefault("id", f"c{next(_ids)}")
    return CheckIn(recorded_at=when, phase=phase, pain=pain, **kw)  # type: ignore[arg-type]


def entry(
    dose: Dose,
    *,
    pain: int | None = 2,
    rpe: int | None = 5,
    reps: tuple[int, ...] | None = None,
    sets_completed: int | None = None,
    hold: int | None = None,
    skipped: bool = False,
) -> LogEntry:
    return LogEntry(
        exercise_slug=dose.exercise_slug,
        prescribed=dose,
        sets_completed=dose.sets if sets_completed is None else sets_completed,
        reps=reps if reps is not None else tuple([dose.reps or 0] * dose.sets),
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


def history(
    *checkins: CheckIn,
    logs: tuple[SessionLog, ...] = (),
    doses: tuple[Dose, ...] = ROUTINE,
    **more: Any,
) -> History:
    return History(checkins=checkins, logs=logs, doses=doses, **more)


def run(
    *checkins: CheckIn,
    logs: tuple[SessionLog, ...] = (),
    doses: tuple[Dose, ...] = ROUTINE,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    now: datetime = NOW,
    **more: Any,
) -> Advice:
    return evaluate(
        history(*checkins, logs=logs, doses=doses, **more),
        now,
        thresholds=thresholds,
        catalog=CATALOG,
    )


def ctx_of(
    *checkins: CheckIn,
    logs: tuple[SessionLog, ...] = (),
    doses: tuple[Dose, ...] = ROUTINE,
    now: datetime = NOW,
    **more: Any,
) -> Context:
    return context(
        history(*checkins, logs=logs, doses=doses, **more),
        now,
        WINDOW,
        DEFAULT_THRESHOLDS,
        CATALOG,
    )


def of_rule(advice: Advice, rule_id: str) -> list[Reason]:
    return [r for r in advice.reasons if r.rule_id == rule_id]


def only(advice: Advice, rule_id: str) -> Reason:
    found = of_rule(advice, rule_id)
    assert len(found) == 1, advice.reasons
    return found[0]


# --- eased: what a regress says it does ----------------------------------------------------

TRIGGER = at(1)
EASED_LAT = "Lat Pulldown is eased back a step for your next session."
OUT_TAIL = "left out of your sessions for now;"


@pytest.mark.parametrize(
    ("doses", "slugs", "changed", "said"),
    [
        ((LAT_DOSE,), ["lat-pulldown"], {}, EASED_LAT),
        ((LAT_DOSE, BRIDGE_DOSE), ["lat-pulldown", "glute-bridge"], {},
         "Glute Bridge and Lat Pulldown are eased back a step for your next session."),
        ((ROW_FLOOR,), ["wide-dumbbell-row"], {},
         "Wide Dumbbell Row is replaced by the easier Lat Pulldown for now."),
        ((ROW_FLOOR, SIDE_FLOOR), ["wide-dumbbell-row", "side-plank"], {},
         "Side Plank and Wide Dumbbell Row are replaced by the easier Knee Hug and Lat "
         "Pulldown for now."),
        ((BOTTOM_HUG,), ["knee-hug"], {},
         "Knee Hug is already at the easiest step, so it is left out of your sessions for "
         "now; it comes back after 2 sessions without pain trouble."),
        ((BOTTOM_HUG, BOTTOM_BRIDGE), ["knee-hug", "glute-bridge"], {},
         "Glute Bridge and Knee Hug are already at the easiest step, so they are left out of "
         "your sessions for now; they come back after 2 sessions without pain trouble."),
        ((HUG_OUT,), ["knee-hug"], {}, "Knee Hug stays out of your sessions for now."),
        ((HUG_OUT, BRIDGE_OUT), ["knee-hug", "glute-bridge"], {},
         "Glute Bridge and Knee Hug stay out of your sessions for now."),
        # A left-out exercise sorted first does not silence the others.
        ((BRIDGE_OUT, LAT_DOSE), ["glute-bridge", "lat-pulldown"], {},
         EASED_LAT + " Glute Bridge stays out of your sessions for now."),
        # A dose changed at or after the trigger has had its step...
        ((BOTTOM_HUG,), ["knee-hug"], {"knee-hug": TRIGGER},
         "Knee Hug is eased back a step for your next session."),
        ((BOTTOM_HUG,), ["knee-hug"], {"knee-hug": TRIGGER + HOUR},
         "Knee Hug is eased back a step for your next session."),
        # ...one changed before it has not.
        ((BOTTOM_HUG,), ["knee-hug"], {"knee-hug": TRIGGER - SECOND},
         "Knee Hug is already at the easiest step, so it is left out of your sessions for "
         "now; it comes back after 2 sessions without pain trouble."),
        # An exercise already stepped sorted first does not silence the others.
        ((BOTTOM_BRIDGE, ROW_FLOOR), ["glute-bridge", "wide-dumbbell-row"],
         {"glute-bridge": TRIGGER},
         "Glute Bridge is eased back a step for your next session. Wide Dumbbell Row is "
         "replaced by the easier Lat Pulldown for now."),
        # Every kind at once, in order: eased, replaced, left out, stays out.
        ((LAT_DOSE, ROW_FLOOR, BOTTOM_HUG, BRIDGE_OUT),
         ["lat-pulldown", "wide-dumbbell-row", "knee-hug", "glute-bridge"], {},
         "Lat Pulldown is eased back a step for your next session. Wide Dumbbell Row is "
         "replaced by the easier Lat Pulldown for now. Knee Hug is already at the easiest "
         "step, so it is left out of your sessions for now; it comes back after 2 sessions "
         "without pain trouble. Glute Bridge stays out of your sessions for now."),
        # Exercises outside the routine are not spoken for; none at all says nothing.
        ((LAT_DOSE,), ["lat-pulldown", "partial-curl"], {}, EASED_LAT),
        ((LAT_DOSE,), [], {}, ""),
    ],
)  # fmt: skip
def test_eased_says_what_the_regress_does(
    doses: tuple[Dose, ...], slugs: list[str], changed: dict[str, datetime], said: str
) -> None:
    ctx = ctx_of(doses=doses, dose_changed_at=changed)
    assert session_rules.eased(ctx, slugs, TRIGGER) == said


@pytest.mark.parametrize(
    ("cleared", "said"),
    [
        (None, "Wide Dumbbell Row is replaced by the easier Lat Pulldown for now."),
        (frozenset({"lat-pulldown"}),
         "Wide Dumbbell Row is replaced by the easier Lat Pulldown for now."),
        # The easier variation is not cleared: a lower dose of the same exercise.
        (frozenset({"wide-dumbbell-row"}), "Wide Dumbbell Row is eased back a step for your "
         "next session."),
        (frozenset(), "Wide Dumbbell Row is eased back a step for your next session."),
    ],
)  # fmt: skip
def test_eased_under_a_clinicians_clearance(cleared: frozenset[str] | None, said: str) -> None:
    ctx = ctx_of(doses=(ROW_FLOOR,), cleared=cleared)
    assert session_rules.eased(ctx, ["wide-dumbbell-row"], TRIGGER) == said


# --- P1 / P3: session pain, its occasion, evidence and source ------------------------------


def test_p1_evidence_source_and_message_of_pain_during() -> None:
    log = session(at(1), entry(LAT_DOSE, pain=7), entry(BRIDGE_DOSE, pain=1), sid="s-ev")
    reason = only(run(logs=(log,)), "P1")
    assert reason.evidence == {
        "exercises": ["lat-pulldown"],
        "pain_during": 7,
        "at": iso(log.ended_at),
        "source": "s-ev",
    }
    assert reason.source == "s-ev"
    assert reason.exercises == ("lat-pulldown",)
    assert reason.status == "regress"
    assert reason.message == (
        "Pain during Lat Pulldown reached 7 out of 10, above the limit of 5. "
        + EASED_LAT
        + " If an exercise hurts that much again, stop it and rest."
    )


def test_p3_evidence_and_source_of_acceptable_pain_after() -> None:
    log = session(at(1), entry(LAT_DOSE, pain=1), entry(BRIDGE_DOSE, pain=1), sid="s-p3",
                  pain_after=4)  # fmt: skip
    reason = only(run(logs=(log,)), "P3")
    assert reason.evidence == {
        "exercises": ["glute-bridge", "lat-pulldown"],
        "pain_after": 4,
        "at": iso(log.ended_at),
        "source": "s-p3",
    }
    assert reason.source == "s-p3"
    assert reason.message == (
        "Pain right after your session was 4 out of 10: acceptable, but not yet comfortable. "
        "Repeat the same doses of Glute Bridge and Lat Pulldown next time rather than "
        "increasing them."
    )


def test_the_highest_pain_of_an_occasion_counts_even_when_a_lower_one_comes_later() -> None:
    log = session(at(1), entry(LAT_DOSE, pain=7), sid="s-hi")
    for when in (log.started_at + 5 * MINUTE, log.ended_at + HOUR):
        lower = ci(when, 2, phase="during", session_id="s-hi", exercise_slug="lat-pulldown")
        reason = only(run(lower, logs=(log,)), "P1")
        assert reason.evidence == {
            "exercises": ["lat-pulldown"],
            "pain_during": 7,
            # The occasion is as late as the latest report in it.
            "at": iso(max(log.ended_at, when)),
            "source": "s-hi",
        }


def test_at_equal_pain_during_wins_over_after() -> None:
    # Lat Pulldown: 6 during and 6 after; Glute Bridge: 6 after only. One reason each kind.
    log = session(at(1), entry(LAT_DOSE, pain=6), entry(BRIDGE_DOSE, pain=1), sid="s-tie",
                  pain_after=6)  # fmt: skip
    reasons = of_rule(run(logs=(log,)), "P1")
    assert [(r.exercises, r.evidence) for r in reasons] == [
        (("glute-bridge",), {"exercises": ["glute-bridge"], "pain_after": 6,
                             "at": iso(log.ended_at), "source": "s-tie"}),
        (("lat-pulldown",), {"exercises": ["lat-pulldown"], "pain_during": 6,
                             "at": iso(log.ended_at), "source": "s-tie"}),
    ]  # fmt: skip
    assert reasons[0].message.startswith("Pain right after your session reached 6")
    assert reasons[1].message.startswith("Pain during Lat Pulldown reached 6")
    # A `during` report after the log's `after` pain replaces it at equal pain.
    log = session(at(1), entry(LAT_DOSE, pain=None), sid="s-tie2", pain_after=6)
    during = ci(log.ended_at - MINUTE, 6, phase="during", session_id="s-tie2",
                exercise_slug="lat-pulldown")  # fmt: skip
    reason = only(run(during, logs=(log,)), "P1")
    assert reason.evidence["pain_during"] == 6 and "pain_after" not in reason.evidence


@pytest.mark.parametrize(
    ("old", "new", "pain", "source"),
    [(7, 2, None, None), (2, 7, 7, "s-new"), (6, 6, 6, "s-new")],
)
def test_the_later_occasion_wins(old: int, new: int, pain: int | None, source: str | None) -> None:
    logs = (
        session(at(3), entry(LAT_DOSE, pain=old), sid="s-old"),
        session(at(1), entry(LAT_DOSE, pain=new), sid="s-new"),
    )
    reasons = of_rule(run(logs=logs), "P1")
    assert [(r.evidence["pain_during"], r.source) for r in reasons] == (
        [(pain, source)] if pain else []
    )


def test_an_exercise_left_out_forgets_its_pain_but_its_session_mates_do_not() -> None:
    log = session(at(2), entry(LAT_DOSE, pain=7), entry(BRIDGE_DOSE, pain=7), sid="s-lo")
    advice = run(logs=(log,), doses=(LAT_OUT, BRIDGE_DOSE),
                 left_out_since={"lat-pulldown": log.ended_at})  # fmt: skip
    reason = only(advice, "P1")
    assert reason.exercises == ("glute-bridge",)
    assert reason.evidence["exercises"] == ["glute-bridge"]
    assert advice.exercises == {"glute-bridge": "regress", "lat-pulldown": "maintain"}


def test_the_source_of_session_pain_is_its_session() -> None:
    # pain_after in the log, and an untagged `after` check-in within 2 h of its end.
    log = session(at(1), entry(LAT_DOSE, pain=1), sid="s-after", pain_after=6)
    assert only(run(logs=(log,)), "P1").source == "s-after"
    log = session(at(1), entry(LAT_DOSE, pain=1), sid="s-untagged")
    late = ci(log.ended_at + HOUR, 6, phase="after")
    reason = only(run(late, logs=(log,)), "P1")
    assert (reason.source, reason.evidence["source"]) == ("s-untagged", "s-untagged")
    assert reason.evidence["pain_after"] == 6
    assert reason.evidence["at"] == iso(late.recorded_at)


def test_a_lone_check_in_is_its_own_occasion_after_any_other_check_in() -> None:
    everyone = ["glute-bridge", "knee-hug", "lat-pulldown", "partial-curl"]
    rest = ci(at(1), 2)  # a daily check-in before it does not hide it
    lone = ci(at(0), 7, phase="during", id="c-lone")
    reason = only(run(rest, lone), "P1")
    assert reason.evidence == {
        "exercises": everyone,
        "pain_during": 7,
        "at": iso(lone.recorded_at),
        "source": "c-lone",
    }
    assert reason.source == "c-lone"
    assert reason.exercises == tuple(everyone)
    # Tagged with a session that was never logged: that session is its occasion.
    ghost = ci(at(0), 7, phase="after", session_id="s-ghost", id="c-ghost")
    reason = only(run(rest, ghost), "P1")
    assert (reason.source, reason.evidence["source"]) == ("s-ghost", "s-ghost")


OUTSIDE = (LAT_DOSE, BRIDGE_DOSE)  # a routine without the row and the side plank


@pytest.mark.parametrize(
    ("entries", "checkins", "changed", "exercises"),
    [
        # Pain during an exercise outside the routine: the session's routine exercises...
        ((entry(LAT_DOSE, pain=1), entry(ROW_FLOOR, pain=7)), (), None, ["lat-pulldown"]),
        # ...or, with none of them done, the whole routine.
        ((entry(ROW_FLOOR, pain=7),), (), None, ["glute-bridge", "lat-pulldown"]),
        # Not when it left the routine at or after that pain: acted on.
        ((entry(ROW_FLOOR, pain=7),), (), timedelta(0), []),
        ((entry(ROW_FLOOR, pain=7),), (), -SECOND, ["glute-bridge", "lat-pulldown"]),
        # A lone check-in naming one: the whole routine.
        ((), (ci(at(0), 7, "during", exercise_slug="side-plank"),), None,
         ["glute-bridge", "lat-pulldown"]),
    ],
)  # fmt: skip
def test_pain_named_for_an_exercise_outside_the_routine(
    entries: tuple[LogEntry, ...],
    checkins: tuple[CheckIn, ...],
    changed: timedelta | None,
    exercises: list[str],
) -> None:
    logs = (session(at(1), *entries, sid="s-out"),) if entries else ()
    moved = {} if changed is None else {"wide-dumbbell-row": at(1) + 30 * MINUTE + changed}
    advice = run(*checkins, logs=logs, doses=OUTSIDE, dose_changed_at=moved)
    reasons = of_rule(advice, "P1")
    assert [r.evidence["exercises"] for r in reasons] == ([exercises] if exercises else [])
    for reason in reasons:
        assert reason.exercises == tuple(exercises)
        assert reason.evidence["pain_during"] == 7
    assert {s for s, a in advice.exercises.items() if a == "regress"} == set(exercises)


def test_pain_after_still_counts_for_the_routine_beside_an_exercise_that_left_it() -> None:
    # The glute bridge left the routine after the session; its pain after (for the
    # bridge and the lat pulldown) still counts for the lat pulldown.
    log = session(at(1), entry(BRIDGE_DOSE, pain=1), entry(LAT_DOSE, pain=1), sid="s-left",
                  pain_after=7)  # fmt: skip
    advice = run(logs=(log,), doses=(LAT_DOSE,), dose_changed_at={"glute-bridge": log.ended_at})
    reason = only(advice, "P1")
    assert reason.exercises == ("lat-pulldown",)
    assert reason.evidence["pain_after"] == 7


# --- P2 / P3: the morning after -----------------------------------------------------------


def morning_case(
    before: int | None, morning: int, *, sid: str = "s-m"
) -> tuple[tuple[CheckIn, ...], SessionLog]:
    start = at(1)
    log = session(start, entry(LAT_DOSE), entry(BRIDGE_DOSE), entry(CURL_DOSE, skipped=True),
                  sid=sid)  # fmt: skip
    out = [ci(start + 20 * HOUR, morning, phase="next_morning", session_id=sid)]
    if before is not None:
        out.append(ci(start - HOUR, before, phase="before", session_id=sid))
    return tuple(out), log


@pytest.mark.parametrize(
    ("before", "morning", "rule", "evidence", "message"),
    [
        (2, 4, "P2", {"before_pain": 2, "before_from": "before_checkin", "rise": 2},
         "The morning after your last session your pain was 4 out of 10, 2 points above the "
         "2 out of 10 you started from. Glute Bridge and Lat Pulldown are eased back a step "
         "for your next session. Keep moving gently and check in again tomorrow."),
        (5, 6, "P2", {"before_pain": 5, "before_from": "before_checkin", "rise": 1},
         "The morning after your last session your pain was 6 out of 10, above 5. Glute "
         "Bridge and Lat Pulldown are eased back a step for your next session. Keep moving "
         "gently and check in again tomorrow."),
        (None, 6, "P2", {"before_pain": None, "before_from": None, "rise": None},
         "The morning after your last session your pain was 6 out of 10, above 5. Glute "
         "Bridge and Lat Pulldown are eased back a step for your next session. Keep moving "
         "gently and check in again tomorrow."),
        (2, 3, "P3", {"before_pain": 2, "before_from": "before_checkin", "rise": 1},
         "Your pain was a little higher the morning after your last session. Repeat the same "
         "doses of Glute Bridge and Lat Pulldown next time rather than increasing them."),
    ],
)  # fmt: skip
def test_morning_evidence_source_and_message(
    before: int | None, morning: int, rule: str, evidence: dict[str, Any], message: str
) -> None:
    checkins, log = morning_case(before, morning)
    advice = run(*checkins, logs=(log,))
    reason = only(advice, rule)
    assert reason.evidence == {"session_id": "s-m", "next_morning_pain": morning, **evidence}
    assert reason.source == "s-m"
    assert reason.exercises == ("glute-bridge", "lat-pulldown")
    assert reason.message == message


def test_p2_median_rest_pain_before_the_session() -> None:
    checkins, log = morning_case(None, 5)
    rest = (ci(log.started_at - timedelta(days=1), 2), ci(log.started_at - timedelta(days=2), 3))
    reason = only(run(*checkins, *rest, logs=(log,)), "P2")
    assert reason.evidence == {
        "session_id": "s-m",
        "next_morning_pain": 5,
        "before_pain": 2.5,
        "before_from": "median_rest_7_days",
        "rise": 2.5,
    }
    assert "5 out of 10, 2.5 points above the 2.5 out of 10 you started from" in reason.message


@pytest.mark.parametrize(("changed", "said"), [
    (timedelta(0), "Knee Hug is eased back a step for your next session."),
    (-SECOND, "Knee Hug is already at the easiest step, so it is left out of your sessions"),
])  # fmt: skip
def test_p2_says_a_dose_changed_since_the_morning_has_had_its_step(
    changed: timedelta, said: str
) -> None:
    log = session(at(1), entry(BOTTOM_HUG), sid="s-bh")
    morning = ci(at(0, hours=4), 4, phase="next_morning", session_id="s-bh")
    before = ci(log.started_at - HOUR, 1, phase="before", session_id="s-bh")
    advice = run(morning, before, logs=(log,), doses=(BOTTOM_HUG,),
                 dose_changed_at={"knee-hug": morning.recorded_at + changed})  # fmt: skip
    assert said in only(advice, "P2").message


def test_p3_morning_names_your_exercises_when_none_is_in_the_routine() -> None:
    checkins, log = morning_case(2, 3)
    reason = only(run(*checkins, logs=(log,), doses=(HUG_DOSE,)), "P3")
    assert reason.exercises == ()
    assert reason.source == "s-m"
    assert reason.message == (
        "Your pain was a little higher the morning after your last session. Repeat the same "
        "doses of your exercises next time rather than increasing them."
    )


# --- P4: each condition of a comfortable session -------------------------------------------

START1, START2 = at(4), at(2)
END1 = START1 + timedelta(minutes=30)
S0, S1, S2 = "s-0", "s-1", "s-2"


def day_of(
    start: datetime,
    sid: str,
    entries: tuple[LogEntry, ...],
    *,
    before: int | None = 1,
    morning: int | None = 1,
    pain_after: int | None = None,
) -> tuple[list[CheckIn], SessionLog]:
    """A session, a `before` check-in an hour ahead of it and its next morning 18 h on."""
    checkins = []
    if before is not None:
        checkins.append(ci(start - HOUR, before, phase="before", session_id=sid))
    if morning is not None:
        checkins.append(ci(start + 18 * HOUR, morning, phase="next_morning", session_id=sid))
    return checkins, session(start, *entries, sid=sid, pain_after=pain_after)


def two_sessions(
    *extra: CheckIn,
    doses: tuple[Dose, ...] = SMALL,
    first: tuple[LogEntry, ...] | None = None,
    second: tuple[LogEntry, ...] | None = None,
    first_kw: dict[str, Any] | None = None,
    second_kw: dict[str, Any] | None = None,
    more_logs: tuple[SessionLog, ...] = (),
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    **more: Any,
) -> Advice:
    """Two sessions of the routine (4 and 2 days ago), comfortable unless spoiled."""
    done = tuple(entry(d) for d in doses if d.sets > 0)
    c1, log1 = day_of(START1, S1, first if first is not None else done, **(first_kw or {}))
    c2, log2 = day_of(START2, S2, second if second is not None else done, **(second_kw or {}))
    return run(*c1, *c2, *extra, logs=(*more_logs, log1, log2), doses=doses,
               thresholds=thresholds, **more)  # fmt: skip


BOTH = {"knee-hug": "progress", "partial-curl": "progress"}
HUG_ONLY = {"knee-hug": "progress", "partial-curl": "maintain"}
CURL_ONLY = {"knee-hug": "maintain", "partial-curl": "progress"}
NEITHER = {"knee-hug": "maintain", "partial-curl": "maintain"}
HUG_SLUG, CURL_SLUG = "knee-hug", "partial-curl"
FIRST_SPOILED: list[tuple[str, Callable[[], dict[str, Any]], dict[str, str]]] = [
    ("comfortable", dict, BOTH),
    ("pain after 4", lambda: {"first_kw": {"pain_after": 4}}, NEITHER),
    ("pain after 3", lambda: {"first_kw": {"pain_after": 3}}, BOTH),
    # Pain during counts for that exercise only.
    ("curl hurt 4", lambda: {"first": (entry(HUG_DOSE), entry(CURL_DOSE, pain=4))}, HUG_ONLY),
    ("curl hurt 3", lambda: {"first": (entry(HUG_DOSE), entry(CURL_DOSE, pain=3))}, BOTH),
    ("during 4", lambda: {"extra": (ci(START1 + 10 * MINUTE, 4, "during", session_id=S1),)},
     NEITHER),
    ("during 3", lambda: {"extra": (ci(START1 + 10 * MINUTE, 3, "during", session_id=S1),)},
     BOTH),
    ("after 4", lambda: {"extra": (ci(END1 + HOUR, 4, "after", session_id=S1),)}, NEITHER),
    ("after 4 naming the curl", lambda: {"extra": (
        ci(END1, 4, "after", session_id=S1, exercise_slug=CURL_SLUG),)}, HUG_ONLY),
    ("during 4 naming the hug", lambda: {"extra": (
        ci(START1 + 5 * MINUTE, 4, "during", session_id=S1, exercise_slug=HUG_SLUG),)}, CURL_ONLY),
    # A check-in naming another exercise does not end the search.
    ("naming the curl, then none", lambda: {"extra": (
        ci(START1 + 5 * MINUTE, 4, "during", session_id=S1, exercise_slug=CURL_SLUG),
        ci(START1 + 10 * MINUTE, 4, "during", session_id=S1))}, NEITHER),
    # Untagged `after` pain belongs to the session that ended in the 2 h before it.
    ("untagged after within 2 h", lambda: {"extra": (ci(END1 + 2 * HOUR, 4, "after"),)},
     NEITHER),
    ("untagged after past 2 h", lambda: {"extra": (ci(END1 + 2 * HOUR + SECOND, 4, "after"),)},
     BOTH),
    ("lone during", lambda: {"extra": (ci(at(3), 4, "during"),)}, BOTH),
    # Pain of an older session says nothing about the last two.
    ("older session hurt", lambda: {
        "more_logs": (session(at(6), entry(HUG_DOSE), entry(CURL_DOSE), sid=S0),),
        "extra": (ci(at(6) + HOUR, 4, "after", session_id=S0),)}, BOTH),
    # The first session's next morning must not rise either.
    ("first morning rose", lambda: {"first_kw": {"morning": 2}}, NEITHER),
    ("first morning fell", lambda: {"first_kw": {"before": 2, "morning": 1}}, BOTH),
    # Done at another dose, or not every set.
    ("hug at another dose", lambda: {"first": (entry(Dose(HUG_SLUG, 1, 5, 8)), entry(CURL_DOSE))},
     CURL_ONLY),
    # (A row, outside the routine, keeps the volume done up: V1 stays out of it.)
    ("hug no set done", lambda: {"first": (entry(HUG_DOSE, sets_completed=0),
                                           entry(CURL_DOSE), entry(ROW_FLOOR))}, CURL_ONLY),
    ("hug no reps logged", lambda: {"first": (entry(HUG_DOSE, reps=()), entry(CURL_DOSE),
                                              entry(ROW_FLOOR))}, CURL_ONLY),
    ("hug too few reps", lambda: {"first": (entry(HUG_DOSE, reps=(4,)), entry(CURL_DOSE),
                                            entry(ROW_FLOOR))}, CURL_ONLY),
    ("hug too short a hold", lambda: {"first": (entry(HUG_DOSE, hold=9), entry(CURL_DOSE),
                                                entry(ROW_FLOOR))}, CURL_ONLY),
    ("hug rpe 7", lambda: {"first": (entry(HUG_DOSE, rpe=7), entry(CURL_DOSE))}, CURL_ONLY),
    ("hug rpe 6", lambda: {"first": (entry(HUG_DOSE, rpe=6), entry(CURL_DOSE))}, BOTH),
    ("hug no pain logged", lambda: {"first": (entry(HUG_DOSE, pain=None), entry(CURL_DOSE))},
     CURL_ONLY),
]  # fmt: skip


@pytest.mark.parametrize(
    ("spoil", "actions"),
    [pytest.param(make, actions, id=name) for name, make, actions in FIRST_SPOILED],
)
def test_p4_each_condition_of_the_first_of_two_sessions(
    spoil: Callable[[], dict[str, Any]], actions: dict[str, str]
) -> None:
    kw = spoil()
    extra = kw.pop("extra", ())
    advice = two_sessions(*extra, **kw)
    assert advice.exercises == actions
    fired = [r for r in advice.reasons if r.rule_id != "M0"]  # M0: none fired
    assert {r.rule_id for r in fired} <= {"P4"}  # nothing else fired
    assert [r.exercises for r in fired] == [
        (slug,) for slug, action in sorted(actions.items()) if action == "progress"
    ]


def test_p4_evidence_and_source() -> None:
    advice = two_sessions()
    hug = of_rule(advice, "P4")[0]
    assert hug.evidence == {"exercise": HUG_SLUG, "sessions": [S1, S2], "next_morning_pain": 1}
    assert hug.source == S2
    assert hug.message == (
        "You did Knee Hug comfortably in your last 2 sessions and your pain settled by the "
        "next morning: time for a small step up next session."
    )


@pytest.mark.parametrize(
    ("first_kw", "second_kw", "actions", "morning"),
    [
        # The last morning settles at or below the pain the session started from...
        ({"before": 5, "morning": 4}, {"before": 5, "morning": 4}, BOTH, 4),
        # ...or, with nothing to compare, within the safe zone (3). Only the last
        # session's morning is needed.
        ({"morning": None}, {"before": None, "morning": 3}, BOTH, 3),
        ({"morning": None}, {"before": None, "morning": 4}, NEITHER, None),
        ({}, {"morning": None}, NEITHER, None),
    ],
)
def test_p4_needs_the_last_morning_settled(
    first_kw: dict[str, Any], second_kw: dict[str, Any], actions: dict[str, str], morning: int
) -> None:
    advice = two_sessions(first_kw=first_kw, second_kw=second_kw)
    assert advice.exercises == actions
    fired = [r for r in advice.reasons if r.rule_id != "M0"]  # M0: none fired
    assert [r.rule_id for r in fired] == ["P4"] * len(of_rule(advice, "P4"))
    for reason in fired:
        assert reason.evidence["next_morning_pain"] == morning
        assert reason.source == S2


def test_p4_counts_the_last_two_sessions_that_did_the_exercise() -> None:
    # A later session without the knee hug (a partial curl, outside the routine) is not
    # one of the hug's.
    c3, curl_only = day_of(at(1), "s-3", (entry(CURL_DOSE),), morning=None)
    advice = two_sessions(*c3, doses=(HUG_DOSE,), more_logs=(curl_only,))
    assert advice.exercises == {HUG_SLUG: "progress"}
    assert only(advice, "P4").evidence == {
        "exercise": HUG_SLUG,
        "sessions": [S1, S2],
        "next_morning_pain": 1,
    }


def test_p4_skips_a_left_out_exercise_with_no_date_and_goes_on() -> None:
    advice = two_sessions(doses=(BRIDGE_OUT, HUG_DOSE))
    assert advice.exercises == {"glute-bridge": "maintain", "knee-hug": "progress"}


COMEBACK = (HUG_OUT, BRIDGE_TOP)
SINCE = {"knee-hug": START1 - SECOND}


@pytest.mark.parametrize(
    ("kw", "back"),
    [
        ({}, True),
        ({"first": (entry(BRIDGE_TOP, pain=4),)}, False),  # any exercise's pain
        ({"first": (entry(BRIDGE_TOP, pain=3),)}, True),
        ({"first_kw": {"pain_after": 4}}, False),
        ({"extra": (ci(END1, 4, "after", session_id=S1, exercise_slug="glute-bridge"),)},
         False),
        ({"first_kw": {"morning": 2}}, False),
        # The safe zone tuned to 0: no pain reported is still no pain.
        ({"first": (entry(BRIDGE_TOP, pain=None),), "second": (entry(BRIDGE_TOP, pain=None),),
          "thresholds": DEFAULT_THRESHOLDS.with_overrides({"during_pain_safe_max": 0})}, True),
    ],
)  # fmt: skip
def test_p4_brings_back_a_left_out_exercise_after_two_settled_sessions(
    kw: dict[str, Any], back: bool
) -> None:
    kw = dict(kw)
    extra = kw.pop("extra", ())
    advice = two_sessions(*extra, doses=COMEBACK, left_out_since=SINCE, **kw)
    assert advice.exercises["knee-hug"] == ("progress" if back else "maintain")
    if back:
        reason = only(advice, "P4")
        assert reason.evidence == {
            "exercise": HUG_SLUG,
            "sessions": [S1, S2],
            "next_morning_pain": 1,
        }
        assert reason.source == S2
        assert reason.message == (
            "Your last 2 sessions went without too much pain, so Knee Hug comes back into "
            "your sessions at its lowest dose."
        )


# --- P0: the gate ---------------------------------------------------------------------------


def daily(*pains_by_days_ago: tuple[float, int]) -> tuple[CheckIn, ...]:
    return tuple(ci(at(days), pain) for days, pain in pains_by_days_ago)


@pytest.mark.parametrize(
    ("checkins", "last_rest", "failures"),
    [
        ((), None, [("stale", {"latest_rest_checkin": None})]),
        (daily((4, 2)), None, [("stale", {"latest_rest_checkin": iso(at(4))})]),
        # The latest rest check-in ever, from beyond the window.
        ((), ci(at(60), 2), [("stale", {"latest_rest_checkin": iso(at(60))})]),
        (daily((0, 2)), None, []),
        # A before check-in is fresh evidence; an after check-in is not.
        ((ci(at(1), 2, "before"),), None, []),
        ((ci(at(1), 2, "after"),), None, [("stale", {"latest_rest_checkin": None})]),
        (daily((7, 1), (0, 3)), None,
         [("rising", {"latest_rest_pain": 3, "lowest_7_days": 1, "rise": 2})]),
        (daily((5, 2), (4, 2), (3, 2), (2, 3), (1, 4), (0, 3)), None,
         [("trend", {"mean_last_3_days": 3.33, "mean_3_days_before": 2.0})]),
        # All three, in this order.
        (daily((15, 1), (14, 1), (13, 1), (12, 3), (11, 3), (10, 3)), None,
         [("stale", {"latest_rest_checkin": iso(at(10))}),
          ("rising", {"latest_rest_pain": 3, "lowest_7_days": 1, "rise": 2}),
          ("trend", {"mean_last_3_days": 3.0, "mean_3_days_before": 1.0})]),
    ],
)  # fmt: skip
def test_gate_failures(
    checkins: tuple[CheckIn, ...], last_rest: CheckIn | None, failures: list[Any]
) -> None:
    ctx = ctx_of(*checkins, last_rest=last_rest)
    assert progression_rules.gate_failures(ctx) == failures


def proposal(*slugs: str) -> Reason:
    return Reason("P4", "progress", "", {}, slugs)


def test_p0_merges_the_evidence_of_every_failure_and_speaks_of_the_first() -> None:
    ctx = ctx_of(*daily((15, 1), (14, 1), (13, 1), (12, 3), (11, 3), (10, 3)), doses=SMALL)
    p0 = RULES_BY_ID["P0"]
    [reason] = progression_rules.p0_progression_gate(
        p0, ctx, (proposal(CURL_SLUG), proposal(HUG_SLUG))
    )
    assert reason.evidence == {
        "failed": ["stale", "rising", "trend"],
        "latest_rest_checkin": iso(at(10)),
        "latest_rest_pain": 3,
        "lowest_7_days": 1,
        "rise": 2,
        "mean_last_3_days": 3.0,
        "mean_3_days_before": 1.0,
    }
    assert reason.exercises == (HUG_SLUG, CURL_SLUG)
    assert (reason.status, reason.rule_id) == ("hold", "P0")
    assert reason.message == (
        "Knee Hug and Partial Curl could step up, but there is no check-in of your pain at "
        "rest from the last 3 days. Check in now; until then the doses stay as they are."
    )


def test_p0_rising_message_and_when_it_says_nothing() -> None:
    p0 = RULES_BY_ID["P0"]
    rising = ctx_of(*daily((7, 1), (0, 3)))
    [reason] = progression_rules.p0_progression_gate(p0, rising, (proposal(HUG_SLUG),))
    assert reason.evidence == {
        "failed": ["rising"], "latest_rest_pain": 3, "lowest_7_days": 1, "rise": 2
    }  # fmt: skip
    assert reason.message == (
        "Knee Hug could step up, but your latest pain at rest (3 out of 10) is 2 points above "
        "your lowest this week. The doses stay as they are until it settles."
    )
    assert progression_rules.p0_progression_gate(p0, rising, ()) == []
    settled = ctx_of(*daily((1, 2), (0, 2)))
    assert progression_rules.p0_progression_gate(p0, settled, (proposal(HUG_SLUG),)) == []


# --- V1: weekly volume ------------------------------------------------------------------------


def test_v1_evidence_of_a_capped_step() -> None:
    # Lat pulldown 5 -> 8 reps: 30 -> 48 s a session, one session a week; cap 30 * 1.3.
    advice = two_sessions(doses=(LAT_DOSE,))
    reason = only(advice, "V1")
    assert reason.evidence == {
        "exercise": "lat-pulldown",
        "weekly_volume_done": 30.0,
        "weekly_volume_planned": 48.0,
        "cap": 39.0,
    }
    assert reason.exercises == ("lat-pulldown",)
    assert advice.exercises == {"lat-pulldown": "hold"}


def test_v1_counts_the_steps_taken_before_the_one_it_holds() -> None:
    # Knee hug 65 -> 75 s is taken (125 <= 126.5); partial curl 50 -> 65 s is not.
    tight = DEFAULT_THRESHOLDS.with_overrides({"volume_growth_max": 0.10})
    advice = two_sessions(thresholds=tight)
    assert advice.exercises == HUG_ONLY | {"partial-curl": "hold"}
    assert only(advice, "V1").evidence == {
        "exercise": CURL_SLUG,
        "weekly_volume_done": 115.0,
        "weekly_volume_planned": 140.0,
        "cap": 126.5,
    }


LAT_SIDES = Dose("lat-pulldown", 1, 5, 3, per_side=True)


@pytest.mark.parametrize(
    ("entries", "start", "done"),
    [
        ((entry(LAT_DOSE),), at(1), 30),  # 1 x 5 x (3 + 3 s)
        ((entry(LAT_SIDES),), at(1), 60),  # both sides
        ((entry(LAT_DOSE, skipped=True),), at(1), 0),
        ((entry(LAT_DOSE, sets_completed=0),), at(1), 0),
        # A skipped entry does not end the count of its session.
        ((entry(BRIDGE_DOSE, skipped=True), entry(LAT_DOSE)), at(1), 30),
        ((entry(BRIDGE_DOSE, sets_completed=0), entry(LAT_DOSE)), at(1), 30),
        # Sets done, reps as their rounded mean; no reps logged count as one.
        ((entry(LAT_DOSE, sets_completed=2, reps=(5, 6, 6)),), at(1), 72),
        ((entry(LAT_DOSE, sets_completed=2, reps=(5, 5, 6)),), at(1), 60),
        ((entry(LAT_DOSE, reps=()),), at(1), 6),
        ((entry(LAT_DOSE, hold=5),), at(1), 40),
        # The last two weeks, up to now, both ends included.
        ((entry(LAT_DOSE),), NOW, 30),
        ((entry(LAT_DOSE),), NOW - timedelta(weeks=2), 30),
        ((entry(LAT_DOSE),), NOW - timedelta(weeks=2) - SECOND, 0),
    ],
)
def test_weekly_volume_done(entries: tuple[LogEntry, ...], start: datetime, done: float) -> None:
    log = session(start, *entries)
    old = session(at(20), entry(LAT_DOSE))  # in the window, not in the two weeks
    ctx = ctx_of(logs=(old, log))
    counted = 1 if start >= NOW - timedelta(weeks=2) else 0
    assert progression_rules._weekly_volume_done(ctx) == (done / 2, counted / 2)
