"""A log filled from a recording's segment reps (issue 20) says nothing of pain: the
rules never take it as a comfortable session, nor as one after which pain settled."""

from __future__ import annotations

import dataclasses

import pytest

from api.domain.types import SessionLog
from tests.domain.test_rules import (
    BRIDGE_TOP,
    HUG_OUT,
    SECOND,
    SMALL,
    good_sessions,
    rule_ids,
    run,
)


def as_filled(log: SessionLog, imported: bool) -> SessionLog:
    """The log as a recording fills it: sets and reps, no pain, no effort."""
    entries = tuple(dataclasses.replace(e, pain_during=None, rpe=None) for e in log.entries)
    return dataclasses.replace(log, entries=entries, pain_after=None, imported=imported)


@pytest.mark.parametrize("imported", [False, True])
def test_filled_logs_never_bring_a_left_out_exercise_back(imported: bool) -> None:
    checkins, logs = good_sessions(BRIDGE_TOP)
    filled = tuple(as_filled(log, imported) for log in logs)
    since = {"knee-hug": logs[0].started_at - SECOND}
    advice = run(*checkins, logs=filled, doses=(HUG_OUT, BRIDGE_TOP), left_out_since=since)
    # The same sets sent by the person, with settled check-ins around them, bring it
    # back (their check-ins speak for the session); filled from a recording, they do not.
    assert ("P4" in rule_ids(advice)) is not imported
    assert (advice.exercises["knee-hug"] == "progress") is not imported


def test_filled_logs_never_step_a_dose_up() -> None:
    checkins, logs = good_sessions(*SMALL)
    assert rule_ids(run(*checkins, logs=logs, doses=SMALL)) == ["P4", "P4"]
    filled = tuple(as_filled(log, True) for log in logs)
    advice = run(*checkins, logs=filled, doses=SMALL)
    assert "progress" not in advice.exercises.values()
