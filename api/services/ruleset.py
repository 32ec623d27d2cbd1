"""The rule table in force, for `GET /v1/rules` and docs/rules.md (one source: the table).

`python -m api.services.ruleset docs/rules.md` rewrites the generated part of the doc;
a test fails when the doc and the table disagree.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from api.domain.rule_table import RULES, RULESET_VERSION
from api.domain.thresholds import SPEC
from api.domain.types import SEVERITY
from api.schemas.rules import RulePublic, RulesetPublic, ThresholdPublic

BEGIN = "<!-- rule table: generated from api/domain/rule_table.py; do not edit by hand -->"
END = "<!-- end of the generated rule table -->"


@cache
def ruleset_public() -> RulesetPublic:
    return RulesetPublic(
        version=RULESET_VERSION,
        severity=sorted(SEVERITY, key=lambda s: -SEVERITY[s]),
        rules=[
            RulePublic(
                rule_id=rule.rule_id,
                title=rule.title,
                trigger=rule.trigger,
                action=rule.action,
                status=rule.status,
                statuses=list(rule.statuses),
                moves_dose=rule.moves_dose,
                thresholds={
                    name: ThresholdPublic(
                        default=SPEC[name][0],
                        bound=(SPEC[name][1].low, SPEC[name][1].high),
                        source=SPEC[name][1].source,
                    )
                    for name in rule.thresholds
                },
                constants=dict(rule.constants),
                sources=list(rule.sources),
                applied=rule.applied,
            )
            for rule in RULES
        ],
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The generated part of docs/rules.md: one row per rule, then sources per rule."""
    ruleset = ruleset_public()
    lines = [
        BEGIN,
        f"Ruleset `{ruleset.version}`, in the order the engine evaluates it.",
        "",
        "| rule | trigger | action | thresholds (default, tunable range) | as applied here |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in ruleset.rules:
        tuned = "; ".join(
            f"`{name}` {t.default:g} ({t.bound[0]:g}-{t.bound[1]:g})"
            for name, t in r.thresholds.items()
        )
        fixed = "; ".join(f"{name} {value:g}" for name, value in r.constants.items())
        limits = "; ".join(part for part in (tuned, fixed and f"fixed: {fixed}") if part)
        lines.append(
            f"| **{r.rule_id}** {_cell(r.title)} | {_cell(r.trigger)} | {_cell(r.action)} "
            f"| {_cell(limits) or '-'} | {_cell(r.applied)} |"
        )
    lines += ["", "Sources:", ""]
    for r in ruleset.rules:
        lines.append(f"- **{r.rule_id}**: " + "; ".join(r.sources) + ".")
    lines.append(END)
    return "\n".join(lines) + "\n"


def rewrite(doc: str) -> str:
    """`doc` with its generated part replaced by the table as it is now."""
    head, found, rest = doc.partition(BEGIN)
    if not found:
        raise ValueError("the doc has no generated rule table marker")
    _, found, tail = rest.partition(END)
    if not found:
        raise ValueError("the doc's generated rule table has no end marker")
    return head + markdown().rstrip("\n") + tail


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules.md")
    path.write_text(rewrite(path.read_text()))
