"""Clinician and patient shapes (DESIGN.md: Clinicians)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.catalog import Slug
from api.schemas.pain import AdvicePublic, CheckInPublic, StoredAdvice
from api.schemas.training import RoutineItemPublic, SessionPublic


class InvitationPublic(BaseModel):
    code: str = Field(description="Give it to the patient; single use.")
    expires_at: datetime


class LinkCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"code": "K7QX-M2PA"}]}
    )

    code: str = Field(min_length=4, max_length=20)


class PersonRef(BaseModel):
    id: uuid.UUID
    display_name: str | None
    email: str


class LinkPublic(BaseModel):
    id: uuid.UUID
    clinician: PersonRef
    created_at: datetime


class LinkPage(BaseModel):
    items: list[LinkPublic]
    next_cursor: str | None = None


class PatientPublic(BaseModel):
    id: uuid.UUID
    display_name: str | None
    email: str
    linked_at: datetime
    advice_status: str | None = Field(description="The latest stored advice's status")
    last_activity_at: datetime | None = Field(description="Latest check-in or workout log")


class PatientPage(BaseModel):
    items: list[PatientPublic]
    next_cursor: str | None = None


class DoseCap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sets: int | None = Field(default=None, ge=1, le=10)
    reps: int | None = Field(default=None, ge=1, le=100)
    hold_seconds: int | None = Field(default=None, ge=1, le=120)


class PlanIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "cleared": ["glute-bridge", "knee-hug", "lower-back-rotational-stretch"],
                    "start_dates": {"superman": "2026-12-01"},
                    "caps": {"glute-bridge": {"sets": 2, "reps": 8}},
                }
            ]
        },
    )

    cleared: list[Slug] | None = Field(
        default=None, description="Only these exercises are built; null clears every one."
    )
    start_dates: dict[Slug, date] = Field(
        default_factory=dict, description="Not built before this date (patient's time zone)."
    )
    caps: dict[Slug, DoseCap] = Field(
        default_factory=dict, description="The dose ladder never goes above these."
    )


class PlanPublic(PlanIn):
    updated_by: uuid.UUID | None
    updated_at: datetime | None


class ThresholdsPublic(BaseModel):
    values: dict[str, float] = Field(description="This patient's overrides")
    defaults: dict[str, float]
    bounds: dict[str, tuple[float, float]]


class PatientSummary(BaseModel):
    patient: PatientPublic
    advice: AdvicePublic | None
    routine: list[RoutineItemPublic]
    plan: PlanPublic
    thresholds: dict[str, float]
    checkins: list[CheckInPublic] = Field(description="The latest 30")
    sessions: list[SessionPublic] = Field(description="The latest 20")
    advice_history: list[StoredAdvice] = Field(description="The latest 20 changes")


class AlertPublic(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    kind: Literal["see_doctor", "urgent_care", "inactive"]
    details: dict[str, Any]
    created_at: datetime
    acknowledged_at: datetime | None


class AlertPage(BaseModel):
    items: list[AlertPublic]
    next_cursor: str | None = None


class ClinicianActionPublic(BaseModel):
    clinician_id: uuid.UUID | None
    action: str
    details: dict[str, Any]
    at: datetime
