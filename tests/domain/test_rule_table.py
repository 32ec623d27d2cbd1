"""The rule table: one row per rule of CLINICAL.md, each with its evaluator and sources."""

from __future__ import annotations

import string
from dataclasses import fields

from api.domain.rule_table import RULES, RULES_BY_ID
from api.domain.thresholds import SPEC, Thresholds
from api.domain.types import SEVERITY


def test_every_rule_is_one_row_with_an_evaluator_named_after_it() -> None:
    assert [r.rule_id for r in RULES] == list(RULES_BY_ID)
    assert len(RULES) == 10
    for rule in RULES:
        assert rule.evaluate.__name__.startswith(rule.rule_id.lower() + "_"), rule.rule_id
        assert rule.sources and rule.title and rule.trigger and rule.action
        assert rule.messages, rule.rule_id
        assert all(status in SEVERITY for status in rule.statuses)


def test_thresholds_are_named_as_in_thresholds_py() -> None:
    tunable = {f.name for f in fields(Thresholds)}
    assert set(SPEC) == tunable
    for rule in RULES:
        assert set(rule.thresholds) <= tunable, rule.rule_id
    # Every tunable threshold is read by some rule.
    assert set().union(*(r.thresholds for r in RULES)) == tunable


def test_message_templates_name_only_what_evaluators_fill_in() -> None:
    fillers = {"exercise", "pain", "limit", "days", "weeks", "sessions"}
    for rule in RULES:
        for key, template in rule.messages.items():
            named = {f for _, f, _, _ in string.Formatter().parse(template) if f}
            assert named <= fillers, f"{rule.rule_id}.{key}: {named - fillers}"


def test_dose_moving_and_capping_rules() -> None:
    moving = {r.rule_id: r.moves_dose for r in RULES if r.moves_dose}
    assert moving == {"F1": "down", "P1": "down", "P2": "down", "P4": "up"}
    assert RULES_BY_ID["V1"].caps == "P4"
    # A cap comes after the rule it caps, so the engine has its reasons to withdraw.
    order = [r.rule_id for r in RULES]
    assert order.index("V1") > order.index("P4")
