"""The evidence schemas of the OpenAPI document (api/schemas/evidence.py) against the rules.

tests/domain/conftest.py checks every reason any domain test makes; this module shows
that check can fail, that every rule has a schema, and that every schema is one the
rules really emit (one history per shape), so none documents a shape nobody sends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from api.domain.rule_table import RULES, RULES_BY_ID
from api.domain.types import Advice, Outcome
from api.schemas.evidence import EVIDENCE_BY_RULE, EVIDENCE_SCHEMAS, undocumented
from tests.domain.test_rules import (
    LAT_DOSE,
    NOW,
    SMALL,
    at,
    ci,
    daily,
    entry,
    flagged,
    good_sessions,
    run,
    session,
    weeks,
)


def test_every_rule_has_its_evidence_documented() -> None:
    assert set(EVIDENCE_BY_RULE) == {rule.rule_id for rule in RULES}


def test_an_undocumented_field_a_wrong_type_or_a_missing_field_is_caught() -> None:
    rule = RULES_BY_ID["RF3"]
    shown = {"checkin_id": "c1", "recorded_at": NOW.isoformat(), "pain": 9, "threshold": 8}
    assert undocumented("RF3", shown) is None
    assert "undocumented ['extra']" in str(undocumented("RF3", {**shown, "extra": 1}))
    assert undocumented("RF3", {**shown, "pain": "severe"}) is not None
    assert undocumented("RF3", {"checkin_id": "c1"}) is not None
    assert undocumented("P0", {"failed": ["rising"], "rise": 2}) is not None  # fields of rising
    assert undocumented("X9", {}) == "no evidence schema for rule X9"
    # And the hook every domain test runs under refuses such a reason.
    with pytest.raises(AssertionError, match="undocumented"):
        rule.reason("see_doctor", "rest_pain", {**shown, "extra": 1}, pain=9, threshold="8")


def _red_flag() -> Advice:
    return run(flagged(at(0), "saddle_numbness"))


def _night_pain() -> Advice:
    return run(flagged(at(1), "night_pain", pain=6))


def _rest_pain() -> Advice:
    return run(ci(at(0), 9))


def _leg_symptoms() -> Advice:
    return run(ci(at(0), 3, radiating_below_knee=True))


def _flare() -> Advice:
    return run(*daily(0, range(7, 21)), *daily(3, range(0, 7)))


def _review() -> Advice:
    return run(*weeks(5, 5, 5, 5))


def _session_pain() -> Advice:
    return run(logs=(session(at(1), entry(LAT_DOSE, pain=7)),))


def _morning_after() -> Advice:
    checkins, logs = good_sessions(*SMALL, before=1, morning=6)
    return run(*checkins, logs=logs, doses=SMALL)


def _step_up() -> Advice:
    checkins, logs = good_sessions(*SMALL)
    return run(*checkins, logs=logs, doses=SMALL)


def _gate() -> Advice:
    checkins, logs = good_sessions(*SMALL, last_start=NOW - timedelta(hours=100))
    return run(*checkins, logs=logs, doses=SMALL)


def _volume_cap() -> Advice:
    checkins, logs = good_sessions(LAT_DOSE)
    return run(*checkins, logs=logs, doses=(LAT_DOSE,))


def _steady() -> Advice:
    return run(ci(at(1), 2), ci(at(0), 2))


def _function_review() -> Advice:
    before = NOW - timedelta(days=30)
    odis = (Outcome("o1", "odi", before, 44, "severe"), Outcome("o2", "odi", at(1), 42, "severe"))
    return run(ci(at(1), 2), outcomes=odis)


def _startback() -> Advice:
    high = Outcome("o1", "startback", at(2), 7, "high")
    return run(ci(at(1), 2), outcomes=(high,))


SHAPES: dict[str, tuple[str, Callable[[], Advice]]] = {
    "RedFlagEvidence": ("RF1", _red_flag),
    "NightPainEvidence": ("RF3", _night_pain),
    "RestPainEvidence": ("RF3", _rest_pain),
    "LegSymptomEvidence": ("RF4", _leg_symptoms),
    "FlareEvidence": ("F1", _flare),
    "ReviewEvidence": ("F2", _review),
    "FunctionReviewEvidence": ("F2", _function_review),
    "SessionPainEvidence": ("P1", _session_pain),
    "MorningAfterEvidence": ("P2", _morning_after),
    "StepUpEvidence": ("P4", _step_up),
    "GateEvidence": ("P0", _gate),
    "VolumeCapEvidence": ("V1", _volume_cap),
    "SteadyEvidence": ("M0", _steady),
    "OutcomeEvidence": ("SB1", _startback),
}


def _matches(model_name: str, evidence: dict[str, Any]) -> bool:
    model = next(m for m in EVIDENCE_SCHEMAS if m.__name__ == model_name)
    parsed = model.model_validate(evidence)
    return not parsed.model_extra and set(evidence) >= set(model.model_fields) - {
        name for name, f in model.model_fields.items() if not f.is_required()
    }


def test_each_documented_shape_is_one_the_rules_emit() -> None:
    assert set(SHAPES) == {m.__name__ for m in EVIDENCE_SCHEMAS}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_rules_emit_each_documented_shape(shape: str) -> None:
    rule_id, history = SHAPES[shape]
    reasons = [r for r in history().reasons if r.rule_id == rule_id]
    assert reasons, f"{rule_id} did not fire"
    assert any(_matches(shape, r.evidence) for r in reasons), [r.evidence for r in reasons]
