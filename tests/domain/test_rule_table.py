"""The rule table: one row per rule of CLINICAL.md (ruleset v2), each with its evaluator
and sources."""

from __future__ import annotations

import re
import string
from dataclasses import fields

import pytest

from api.domain.rule_table import RULES, RULES_BY_ID, RULESET_VERSION
from api.domain.thresholds import SPEC, Thresholds
from api.domain.types import SEVERITY

# What the evaluators fill message templates with (str.format keys).
FILLERS = {
    "names", "outcome", "pain", "limit", "rise", "before", "began", "days", "baseline",
    "threshold", "exercise", "sessions", "weeks", "latest_rest_pain", "jump", "measure", "since",
    "earlier", "latest",
}  # fmt: skip


def test_every_rule_is_one_row_with_an_evaluator_named_after_it() -> None:
    assert RULESET_VERSION == "v2"
    assert [r.rule_id for r in RULES] == list(RULES_BY_ID)
    assert [r.rule_id for r in RULES] == [
        "RF1", "RF2", "RF2b", "RF3", "RF4", "F1", "F2", "P1", "P2", "P3", "P4", "P0", "V1",
        "M0", "SB1",
    ]  # fmt: skip
    for rule in RULES:
        assert rule.evaluate.__name__.startswith(rule.rule_id.lower() + "_"), rule.rule_id
        assert rule.sources and rule.title and rule.trigger and rule.action, rule.rule_id
        assert rule.messages, rule.rule_id
        assert rule.applied, rule.rule_id
        assert all(status in SEVERITY for status in rule.statuses)
        # Statuses mildest first; the last is the most severe the rule can set.
        severities = [SEVERITY[s] for s in rule.statuses]
        assert severities == sorted(set(severities)), rule.rule_id
        assert rule.status == rule.statuses[-1]


def test_rows_set_the_statuses_of_the_v2_table() -> None:
    statuses = {r.rule_id: r.statuses for r in RULES}
    assert statuses == {
        "RF1": ("urgent_care",),
        "RF2": ("see_doctor",),
        "RF2b": ("see_doctor",),
        "RF3": ("see_doctor",),
        "RF4": ("hold",),
        "F1": ("regress", "see_doctor"),
        "F2": ("see_doctor",),
        "P1": ("regress",),
        "P2": ("regress",),
        "P3": ("hold",),
        "P4": ("progress",),
        "P0": ("hold",),
        "V1": ("hold",),
        "M0": ("maintain",),
        "SB1": ("maintain",),
    }


def test_a_rule_cannot_set_a_status_outside_its_row() -> None:
    with pytest.raises(ValueError, match="P3 cannot set regress"):
        RULES_BY_ID["P3"].reason("regress", "during", {}, names="x", pain=4)


def test_thresholds_are_named_as_in_thresholds_py() -> None:
    tunable = {f.name for f in fields(Thresholds)}
    assert set(SPEC) == tunable
    for rule in RULES:
        assert set(rule.thresholds) <= tunable, rule.rule_id
    # Every tunable threshold is read by some rule.
    assert set().union(*(r.thresholds for r in RULES)) == tunable


def test_red_flag_rules_have_no_tunable_thresholds() -> None:
    # No override can switch off an emergency or a possible serious cause.
    for rule_id in ("RF1", "RF2", "RF2b", "RF4"):
        assert RULES_BY_ID[rule_id].thresholds == (), rule_id
    # RF3's night-pain half has none; only its rest-pain level is tunable (downwards).
    assert RULES_BY_ID["RF3"].thresholds == ("rest_pain_doctor",)


def test_message_templates_name_only_what_evaluators_fill_in() -> None:
    for rule in RULES:
        for key, template in rule.messages.items():
            named = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert named <= FILLERS, f"{rule.rule_id}.{key}: {named - FILLERS}"
            # Every template renders with its values filled in, leaving no placeholder.
            filled = rule.say(key, **dict.fromkeys(FILLERS, 1))
            assert "{" not in filled and "}" not in filled, f"{rule.rule_id}.{key}"


def test_messages_never_name_an_exercise_by_slug() -> None:
    # Exercises are named through {names} / {exercise}, from the catalog's names: the
    # only hyphenated words in the templates are ordinary English ones.
    english = {"check-in", "flare-up", "warm-up"}
    for rule in RULES:
        for key, template in rule.messages.items():
            text = "".join(lit for lit, _, _, _ in string.Formatter().parse(template))
            hyphenated = set(re.findall(r"[A-Za-z]+(?:[-_][A-Za-z]+)+", text))
            assert hyphenated <= english, f"{rule.rule_id}.{key}: {hyphenated - english}"


def test_assessment_rules_say_how_to_record_one() -> None:
    for rule_id in ("RF1", "RF2", "RF2b"):
        message = RULES_BY_ID[rule_id].messages["flag"]
        assert "who assessed you" in message and "when" in message, rule_id
    for key in ("new", "spreading"):
        assert "emergency care" in RULES_BY_ID["RF4"].messages[key]


def test_dose_moving_and_capping_rules() -> None:
    moving = {r.rule_id: r.moves_dose for r in RULES if r.moves_dose}
    assert moving == {"F1": "down", "P1": "down", "P2": "down", "P4": "up"}
    caps = {r.rule_id: r.caps for r in RULES if r.caps}
    assert caps == {"P0": "P4", "V1": "P4"}
    # A cap comes after the rule it caps, so the engine has its reasons to withdraw.
    order = [r.rule_id for r in RULES]
    for rule_id, capped in caps.items():
        assert order.index(rule_id) > order.index(capped), rule_id
    # Only a flare is keyed by the day it began.
    assert [r.rule_id for r in RULES if r.keyed_by_day] == ["F1"]


def test_fixed_numbers_are_shown_with_their_v2_values() -> None:
    assert RULES_BY_ID["RF4"].constants == {"lookback_days": 14}
    assert dict(RULES_BY_ID["F1"].constants) == {
        "recent_days": 7,
        "baseline_days": 14,
        "min_baseline_days": 2,
        "first_readings": 3,
        "jump_points": 3,
        "settled_days": 3,
        "settled_points": 1,
    }
    assert dict(RULES_BY_ID["F2"].constants) == {
        "improvement_points": 2.0,
        "improvement_fraction": 0.30,
        "min_days_per_week": 1,
        # Screening: serious-cause risk factors shorten the review window.
        "review_weeks_with_risk_factors": 2,
        # Outcome measures (issue 19): each one's minimal important change and the
        # limitation below which no review is asked for.
        "odi_improvement_points": 10,
        "odi_improvement_percent": 30,
        "odi_limited_from": 20.1,
        "psfs_improvement_points": 2,
        "psfs_limited_from": 6,
        "pair_slack_days": 1,
        "psfs_few_shared_activities": 3,
        "psfs_few_shared_improvement_points": 3.0,
    }
    assert RULES_BY_ID["P1"].constants == {"after_window_hours": 2}
    assert dict(RULES_BY_ID["P0"].constants) == {
        "fresh_hours": 72,
        "lookback_days": 7,
        "rise_points": 2,
        "trend_days": 3,
        "trend_points": 1,
    }
    assert RULES_BY_ID["P4"].constants == {"sessions": 2}
    assert RULES_BY_ID["V1"].constants == {"weeks": 2}
