"""The rule table as clients read it (`GET /v1/rules`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.pain import StatusName as AdviceStatus
from api.schemas.types import Range


class ThresholdPublic(BaseModel):
    default: float = Field(description="The value used unless a linked clinician tunes it")
    bound: Range = Field(
        description="The range a clinician may tune it within (it only fires sooner)"
    )
    source: str = Field(description="Why the bound is where it is")


class RulePublic(BaseModel):
    rule_id: str = Field(
        examples=["P1"], description="The rule's id, as advice reasons name it in `rule_id`"
    )
    title: str = Field(description="What the rule is about, in a few words")
    trigger: str = Field(description="What in the stored data fires the rule")
    action: str = Field(description="What happens when it fires")
    status: AdviceStatus = Field(description="The most severe status this rule can set")
    statuses: list[AdviceStatus] = Field(description="Every status it can set, mildest first")
    moves_dose: str | None = Field(
        description="`down`: the exercises it names step down a rung; `up`: up; null: none"
    )
    thresholds: dict[str, ThresholdPublic] = Field(
        description="Tunable thresholds it reads, by name (see PUT /v1/patients/{id}/thresholds)"
    )
    constants: dict[str, float] = Field(description="Fixed numbers it reads (not tunable)")
    sources: list[str] = Field(description="The evidence behind the rule")
    applied: str = Field(description="How the trigger is read where the clinical table leaves room")


class RulesetPublic(BaseModel):
    version: str = Field(
        examples=["v2"],
        description="The ruleset in force; stored advice names its own in `ruleset_version`",
    )
    severity: list[AdviceStatus] = Field(
        description="Statuses from most to least severe; the most severe rule that fires wins"
    )
    rules: list[RulePublic] = Field(
        description="Every rule, in the order the engine evaluates them"
    )
