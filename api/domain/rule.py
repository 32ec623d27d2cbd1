"""What one row of the rule table is: the clinical rule as data, plus its evaluator.

A rule is a row before it is a function (as in CDS Hooks services and CQL libraries):
readers audit the table in `api/domain/rule_table.py`, the engine in
`api/domain/rules.py` walks it, and `GET /v1/rules` serves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from api.domain.evidence import Context
from api.domain.types import Reason, Status

# A rule's evaluator: the context and the reasons found by the rules before it in the
# table, in; the reasons this rule adds, out.
Evaluator = Callable[["Rule", Context, Sequence[Reason]], list[Reason]]
# Which way a rule's decision moves the doses of the exercises it names, if at all.
DoseMove = Literal["up", "down"] | None


@dataclass(frozen=True)
class Rule:
    rule_id: str
    title: str
    trigger: str  # in terms of stored data
    action: str  # what happens, in words
    statuses: tuple[Status, ...]  # the statuses it can set, mildest first
    evaluate: Evaluator
    sources: tuple[str, ...]
    # Tunable thresholds it reads, by their names in api/domain/thresholds.py.
    thresholds: tuple[str, ...] = ()
    # Fixed numbers it reads (not tunable), with their values, for readers.
    constants: Mapping[str, float] = field(default_factory=dict)
    # Message templates, by key; filled with str.format.
    messages: Mapping[str, str] = field(default_factory=dict)
    # The action column: "down" steps the named exercises down a rung when the reason's
    # status is regress or see_doctor, "up" steps them up when it is progress.
    moves_dose: DoseMove = None
    # A rule that caps another's decisions: its reasons withdraw that rule's reasons
    # for the same exercises (V1 caps P4).
    caps: str | None = None
    # Its reasons' `source` is the day the trigger began (see decisions._same_decision).
    keyed_by_day: bool = False
    # Whether its reasons count toward the overall status (V1's cap does not: "the
    # overall status stays as the other rules set it"); its actions always count.
    sets_status: bool = True
    # How the trigger is read where docs/clinical.md leaves room (docs/rules.md shows it).
    applied: str = ""

    @property
    def status(self) -> Status:
        """The most severe status the rule can set."""
        return self.statuses[-1]

    def say(self, key: str, **values: Any) -> str:
        return self.messages[key].format(**values)

    def reason(
        self,
        status: Status,
        message: str,
        evidence: dict[str, Any],
        exercises: tuple[str, ...] = (),
        *,
        source: str = "",
        **values: Any,
    ) -> Reason:
        """A reason of this rule, its message filled from the template named `message`."""
        if status not in self.statuses:
            raise ValueError(f"{self.rule_id} cannot set {status}")
        return Reason(
            self.rule_id,
            status,
            self.say(message, **values),
            evidence,
            exercises,
            source=source,
        )
