"""Every reason a rule emits in these tests is checked against the evidence schemas the
OpenAPI document shows (api/schemas/evidence.py), so the document cannot drift from
the rules: hundreds of rule tests and generated histories check it at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.domain.rule import Rule
from api.domain.types import Reason
from api.schemas.evidence import undocumented

_reason = Rule.reason


def documented_reason(self: Rule, *args: Any, **kwargs: Any) -> Reason:
    reason = _reason(self, *args, **kwargs)
    problem = undocumented(reason.rule_id, reason.evidence)
    assert problem is None, f"{reason.rule_id} evidence {reason.evidence!r}: {problem}"
    return reason


@pytest.fixture(autouse=True)
def _evidence_as_documented(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Rule, "reason", documented_reason)
    yield
