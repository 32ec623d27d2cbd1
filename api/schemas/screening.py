"""Screening shapes (docs/api.md: Screening; docs/clinical.md: the screen before the first
session)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.domain.screening import PREGNANCY_WEEKS_MAX
from api.schemas.catalog import Caution
from api.schemas.common import Input
from api.schemas.enums import enum_schema
from api.schemas.pain import AdvicePublic
from api.schemas.types import Timestamp

AnswerName = Literal[
    "osteoporosis",
    "pregnancy",
    "stenosis_or_spondylolisthesis",
    "spinal_surgery_last_12_months",
    "under_16",
]
CautionName = Caution
_GateName = Literal["screening_required", "spinal_surgery_last_12_months", "under_16"]
GateName = Annotated[
    _GateName,
    enum_schema(
        "Gate",
        _GateName,
        "What stops sessions from being built: no screening yet, or an answer that needs a "
        "linked clinician's clearance first.",
    ),
]


class RiskFactors(Input):
    """Serious-cause risk factors (NICE CKS): not red flags alone, but linked clinicians
    see them and a lack of improvement is reviewed after 2 weeks instead of 4."""

    over_50_new_pain: bool = Field(description="Aged over 50 with back pain that is new")
    immunosuppressed: bool = Field(description="A weakened immune system (illness or drugs)")
    long_term_steroids: bool = Field(description="Steroid tablets taken for months")
    iv_drug_use: bool = Field(description="Injecting drugs, now or in the past")
    cancer_history: bool = Field(description="Cancer now or in the past")


class ScreeningIn(Input):
    """Every answer is required: nothing is assumed for a question not answered."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "osteoporosis": False,
                    "pregnant": True,
                    "pregnancy_weeks": 20,
                    "spinal_surgery_last_12_months": False,
                    "stenosis_or_spondylolisthesis": False,
                    "risk_factors": {
                        "over_50_new_pain": False,
                        "immunosuppressed": False,
                        "long_term_steroids": False,
                        "iv_drug_use": False,
                        "cancer_history": False,
                    },
                    "birth_year": 1994,
                }
            ]
        }
    )

    osteoporosis: bool = Field(description="Osteoporosis, or a fracture from a minor fall")
    pregnant: bool = Field(description="Pregnant now")
    pregnancy_weeks: int | None = Field(
        default=None,
        ge=1,
        le=PREGNANCY_WEEKS_MAX,
        description="Weeks of pregnancy today; required when `pregnant` is true, and only then",
    )
    spinal_surgery_last_12_months: bool = Field(
        description="Spinal surgery in the last 12 months: every exercise then needs a linked "
        "clinician's clearance"
    )
    stenosis_or_spondylolisthesis: bool = Field(
        description="Diagnosed spinal stenosis or spondylolisthesis"
    )
    risk_factors: RiskFactors = Field(description="Serious-cause risk factors, each answered")
    birth_year: int | None = Field(
        default=None,
        ge=1900,
        description="Stored on the profile. Required here when the profile has none: "
        "under 16, exercises need a linked clinician's clearance (NICE NG59 covers 16 and "
        "over).",
    )


class ScreeningPublic(BaseModel):
    id: uuid.UUID = Field(description="This set of answers' id")
    osteoporosis: bool = Field(description="Osteoporosis, or a fracture from a minor fall")
    pregnant: bool = Field(description="Pregnant when answered")
    pregnancy_weeks: int | None = Field(description="As answered on `screened_at`")
    spinal_surgery_last_12_months: bool = Field(
        description="Spinal surgery in the 12 months before answering"
    )
    stenosis_or_spondylolisthesis: bool = Field(
        description="Diagnosed spinal stenosis or spondylolisthesis"
    )
    risk_factors: dict[str, bool] = Field(
        description="Each serious-cause risk factor's answer, by name (see RiskFactors)"
    )
    screened_at: Timestamp = Field(description="When the answers were given (UTC)")


class ExcludedPublic(BaseModel):
    exercise_slug: str = Field(description="The exercise ruled out")
    name: str = Field(description="Its name, for display")
    caution: CautionName | None = Field(
        description="The caution on the exercise; null when the answer rules out every "
        "exercise (spinal surgery, under 16)"
    )
    answer: AnswerName = Field(
        description="The answer that rules it out (`under_16` comes from the birth year)"
    )
    reason: str = Field(description="Why, in plain language")


class LimitedPublic(BaseModel):
    exercise_slug: str = Field(description="The exercise kept at a limited dose")
    name: str = Field(description="Its name, for display")
    caution: CautionName = Field(description="The exercise's caution that an answer limits")
    reason: str = Field(description="Why, in plain language")
    limit: dict[str, int] = Field(description="The most it is prescribed at: sets, reps, holds")


class ScreeningOutcome(BaseModel):
    """What the screen does to the person's exercises today."""

    excluded: list[ExcludedPublic] = Field(description="Left out until a clinician clears them")
    limited: list[LimitedPublic] = Field(description="Kept, at a limited dose")
    cleared_by_clinician: list[ExcludedPublic] = Field(
        description="Ruled out by an answer, but cleared by a linked clinician for you"
    )
    gates: list[GateName] = Field(
        description="Why no session can be built yet (empty: sessions can be built)"
    )


class ScreeningResult(ScreeningOutcome):
    screening: ScreeningPublic | None = Field(description="Null until the screen is answered")
    advice: AdvicePublic = Field(description="The advice now, with these answers in force")


class ScreeningHistory(BaseModel):
    latest: ScreeningPublic | None = Field(
        description="The answers in force (the newest); null until the screen is answered"
    )
    history: list[ScreeningPublic] = Field(
        description="The latest answers given, newest first (at most 100; the export has them all)"
    )
