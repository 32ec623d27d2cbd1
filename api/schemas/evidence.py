"""What each rule shows as a reason's `evidence`, one schema per kind (issue 18).

The rule service builds evidence as plain data (api/domain/*_rules.py) and the API sends
it as built: these models describe it in the OpenAPI document so that clients, snapshots
and the fuzzer can see it. They are not applied to responses (advice stored under an
earlier ruleset is served as stored); instead tests/domain validates every reason the
rules emit against them (`undocumented`), so the document cannot drift from the rules.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from api.schemas.types import Timestamp


class _Evidence(BaseModel):
    # A later ruleset may show more: a client reads the fields it knows.
    model_config = ConfigDict(extra="allow")


class RedFlagEvidence(_Evidence):
    """RF1, RF2, RF2b: the latest check-in with a red flag of the rule's group that no
    assessment has followed."""

    checkin_id: str = Field(description="Id of the check-in that reported the flags")
    recorded_at: Timestamp = Field(description="When that check-in was recorded")
    flags: list[str] = Field(description="The flags of this group it reported")


class NightPainEvidence(_Evidence):
    """RF3, night pain: the check-in that reported it, not yet answered by a later "no"
    with pain below the threshold, nor by an assessment."""

    checkin_id: str = Field(description="Id of the check-in that reported night pain")
    recorded_at: Timestamp = Field(description="When that check-in was recorded")


class RestPainEvidence(_Evidence):
    """RF3, severe pain at rest: the latest rest-pain check-in, at or above the threshold."""

    checkin_id: str = Field(description="Id of that rest-pain check-in")
    recorded_at: Timestamp = Field(description="When that check-in was recorded")
    pain: int = Field(ge=0, le=10, description="Its pain (0-10)")
    threshold: float = Field(description="`rest_pain_doctor`, as set for the person")


class LegSymptomEvidence(_Evidence):
    """RF4: the check-in where leg symptoms began or spread."""

    checkin_id: str = Field(description="Id of the check-in where the symptoms began or spread")
    recorded_at: Timestamp = Field(description="When that check-in was recorded")
    new: list[str] = Field(
        description="Symptoms and places not reported in the 14 days before "
        "(`radiating_below_knee`, `leg_numbness`, or a location)"
    )


class FlareEvidence(_Evidence):
    """F1: rest pain clearly above the person's usual level."""

    baseline_mean: float = Field(description="The usual level (0-10)")
    baseline_from: Literal["14_days", "first_readings", "carried"] = Field(
        description="The 14 days before the last 7, the first readings ever recorded, or "
        "`carried`: a flare that began before the evidence in view goes on with the "
        "baseline stored with the advice it began in"
    )
    recent_mean: float = Field(
        description="Mean rest pain of the 7 days ending on the day the flare began (of the "
        "latest 7 days for a flare carried from earlier advice)"
    )
    rise: float = Field(description="recent_mean - baseline_mean")
    rise_within_7_days: float = Field(description="The largest rise within 7 days")
    flare_began: date = Field(description="The person's local day the flare began")
    days_lasted: int = Field(
        ge=1,
        description="Days from flare_began, inclusive: to today while the latest reading is "
        "more than 1 point above baseline, else to the last such day",
    )
    latest_rest_pain: float = Field(description="Mean rest pain (0-10) of latest_rest_day")
    latest_rest_day: date = Field(description="The latest local day with a rest-pain check-in")


class ReviewEvidence(_Evidence):
    """F2: rest pain not improving over the review window."""

    weekly_means: list[float] = Field(description="Oldest week first")
    weeks: int = Field(
        ge=1,
        description="Weeks reviewed: `review_weeks` as set for the person (default 4), at most "
        "2 with risk factors",
    )
    latest_rest_day: date = Field(description="The day the last week ends on")
    risk_factors: list[str] = Field(
        default_factory=list,
        description="Present only when serious-cause risk factors shortened the window",
    )


class FunctionReviewEvidence(_Evidence):
    """F2: an ODI or PSFS not improved by its minimal important change over the review
    window."""

    instrument: str = Field(description="The measure (`odi` or `psfs`)")
    weeks: int = Field(ge=1, description="Weeks reviewed, as for rest pain")
    earlier_outcome_id: str = Field(description="The answer at the window's start")
    earlier_recorded_at: Timestamp = Field(description="When it was answered")
    earlier_score: float = Field(description="Its score (PSFS: see `activities`)")
    latest_outcome_id: str = Field(description="The latest answer")
    latest_recorded_at: Timestamp = Field(description="When it was answered")
    latest_score: float = Field(description="Its score")
    days_apart: int = Field(ge=0, description="Days between the two answers")
    activities: list[str] = Field(
        default_factory=list,
        description="PSFS only: the activities rated both times; the scores are their means",
    )
    risk_factors: list[str] = Field(
        default_factory=list,
        description="Present only when serious-cause risk factors shortened the window",
    )


class SessionPainEvidence(_Evidence):
    """P1 (above the limit) and P3 (in the acceptable zone): the highest pain of the
    latest occasion of the named exercises, during or right after a session."""

    exercises: list[str] = Field(description="The exercises the pain counts for")
    pain_during: int | None = Field(
        default=None, ge=0, le=10, description="Present when the pain was during"
    )
    pain_after: int | None = Field(
        default=None, ge=0, le=10, description="Present when the pain was right after"
    )
    at: Timestamp = Field(
        description="When: the latest of the session's end and its check-ins, or the lone "
        "check-in's time"
    )
    source: str = Field(description="The session or check-in it was reported in")

    @model_validator(mode="after")
    def _one_kind(self) -> SessionPainEvidence:
        if (self.pain_during is None) == (self.pain_after is None):
            raise ValueError("exactly one of pain_during and pain_after")
        return self


class MorningAfterEvidence(_Evidence):
    """P2 (regress) and P3 (hold): the latest session with a next-morning reading."""

    session_id: str = Field(description="The session whose next morning was read")
    next_morning_pain: int = Field(
        ge=0, le=10, description="Pain (0-10) of the next-morning check-in after it"
    )
    before_pain: float | None = Field(description="What the session started from")
    before_from: Literal["before_checkin", "median_rest_7_days"] | None = Field(
        description="Where before_pain comes from: a `before` check-in tagged with the session, "
        "or the median rest pain of the 7 days before it; null: neither"
    )
    rise: float | None = Field(description="next_morning_pain - before_pain")


class StepUpEvidence(_Evidence):
    """P4: the sessions that went comfortably, and the morning after the last."""

    exercise: str = Field(
        description="Slug of the exercise to step up, or to bring back after it was left out"
    )
    sessions: list[str] = Field(description="Session ids, oldest first")
    next_morning_pain: int = Field(
        ge=0,
        le=10,
        description="Pain (0-10) the morning after the last of them, at or below its starting "
        "pain (if unknown, `during_pain_safe_max`)",
    )


class GateEvidence(_Evidence):
    """P0: why steps up are held; the fields of each failed condition are present."""

    failed: list[Literal["stale", "rising", "trend"]] = Field(
        description="The conditions that failed: `stale` (no rest-pain or `before` check-in in "
        "72 h), `rising`, `trend`"
    )
    latest_rest_checkin: Timestamp | None = Field(
        default=None, description="stale: the latest rest-pain check-in, null if none"
    )
    latest_rest_pain: int | None = Field(default=None, description="rising: its pain")
    lowest_7_days: int | None = Field(
        default=None, description="rising: the lowest rest pain of the 7 days before it"
    )
    rise: int | None = Field(default=None, description="rising: points above that lowest")
    mean_last_3_days: float | None = Field(
        default=None, description="trend: mean daily rest pain of the last 3 days"
    )
    mean_3_days_before: float | None = Field(
        default=None, description="trend: the same for the 3 days before those"
    )

    @model_validator(mode="after")
    def _fields_of_failures(self) -> GateEvidence:
        needs = {
            "stale": ("latest_rest_checkin",),
            "rising": ("latest_rest_pain", "lowest_7_days", "rise"),
            "trend": ("mean_last_3_days", "mean_3_days_before"),
        }
        for failure in self.failed:
            missing = [k for k in needs[failure] if k not in self.model_fields_set]
            if missing:
                raise ValueError(f"{failure} without {', '.join(missing)}")
        return self


class VolumeCapEvidence(_Evidence):
    """V1: a step up withheld because the weekly volume would grow too fast."""

    exercise: str = Field(description="Slug of the exercise whose step up is held")
    weekly_volume_done: float = Field(
        description="Estimated seconds of work logged a week, averaged over the last 2 weeks "
        "(3 s a rep plus its hold)"
    )
    weekly_volume_planned: float = Field(
        description="Estimated seconds of work a week the routine would prescribe with this step up"
    )
    cap: float = Field(
        description="The most allowed: weekly_volume_done x (1 + `volume_growth_max`)"
    )


class OutcomeEvidence(_Evidence):
    """SB1: the latest STarT Back answered, high risk."""

    outcome_id: str = Field(description="Id of the outcome (GET /v1/outcomes/{id})")
    recorded_at: Timestamp = Field(description="When it was answered")
    score: float = Field(description="Its total score (0-9)")
    band: str = Field(description="Its band (`high`)")


class SteadyEvidence(_Evidence):
    """M0: no rule found anything; what that judgement stood on."""

    latest_rest_pain: int | None = Field(
        description="The latest rest-pain reading (0-10); null when there is none"
    )
    sessions_last_7_days: int = Field(description="Sessions logged in the last 7 days")


EVIDENCE_BY_RULE: dict[str, tuple[type[_Evidence], ...]] = {
    "RF1": (RedFlagEvidence,),
    "RF2": (RedFlagEvidence,),
    "RF2b": (RedFlagEvidence,),
    "RF3": (NightPainEvidence, RestPainEvidence),
    "RF4": (LegSymptomEvidence,),
    "F1": (FlareEvidence,),
    "F2": (ReviewEvidence, FunctionReviewEvidence),
    "P1": (SessionPainEvidence,),
    "P2": (MorningAfterEvidence,),
    "P3": (SessionPainEvidence, MorningAfterEvidence),
    "P4": (StepUpEvidence,),
    "P0": (GateEvidence,),
    "V1": (VolumeCapEvidence,),
    "M0": (SteadyEvidence,),
    "SB1": (OutcomeEvidence,),
}
EVIDENCE_SCHEMAS: tuple[type[_Evidence], ...] = tuple(
    dict.fromkeys(m for models in EVIDENCE_BY_RULE.values() for m in models)
)


def _rules_of(model: type[_Evidence]) -> list[str]:
    return [rule for rule, models in EVIDENCE_BY_RULE.items() if model in models]


# The document: evidence is one of these, by rule (each schema's description names its
# rules); the field itself stays a free object so stored advice is served as stored.
EVIDENCE_DOCUMENT: dict[str, Any] = {
    "anyOf": [{"$ref": f"#/components/schemas/{m.__name__}"} for m in EVIDENCE_SCHEMAS]
}
EVIDENCE_DESCRIPTION = (
    "What the rule saw, by rule: "
    + "; ".join(f"{m.__name__} ({', '.join(_rules_of(m))})" for m in EVIDENCE_SCHEMAS)
    + ". Advice is served as stored: advice stored under an earlier `ruleset_version` keeps "
    "the evidence of its day, which these shapes (ruleset v2) may not match."
)


def undocumented(rule_id: str, evidence: dict[str, Any]) -> str | None:
    """Why `evidence` does not match exactly one documented shape of its rule (every
    required field, nothing more, right types), or None when it does."""
    models = EVIDENCE_BY_RULE.get(rule_id)
    if not models:
        return f"no evidence schema for rule {rule_id}"
    # As a client reads it: JSON, strictly typed ("9" is no pain score, nor 9.5).
    raw = json.dumps(evidence)
    problems = []
    for model in models:
        try:
            parsed = model.model_validate_json(raw, strict=True)
        except ValidationError as error:
            problems.append(f"{model.__name__}: {error}")
            continue
        if parsed.model_extra:
            problems.append(f"{model.__name__}: undocumented {sorted(parsed.model_extra)}")
            continue
        return None
    return "; ".join(problems)
