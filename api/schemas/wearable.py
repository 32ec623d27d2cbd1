"""Wearable upload shapes. They map onto Google Health Connect (ExerciseSessionRecord
with segments, HeartRateRecord samples) and Apple HealthKit (HKWorkout) without loss:
start/end, heart-rate samples (time, beats per minute), repetition events per
exercise, energy, and the device's model and software version."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict

from api.schemas.catalog import Slug
from api.schemas.types import NO_NUL, Instant, Timestamp, Uuid, WholeNumber

# Physiological bounds for a heart-rate sample (Health Connect allows 1-300; a reading
# outside 20-250 during exercise is a sensor error).
BPM_MIN, BPM_MAX = 20, 250
# A day at 1 Hz (86,400 samples) fits; the limits stop parsing early on larger bodies.
MAX_HEART_RATE_SAMPLES = 100_000
MAX_REP_EVENTS = 10_000


class _Lean(BaseModel):
    """Closed and strict like `Input`, without its per-model Python validators, which
    would run for each of up to 100,000 samples and switch the parse out of JSON mode.
    Uploads are only parsed from JSON, where strict date-times are ISO text and nothing
    else; their few free-text fields state their NUL ban as a pattern."""

    model_config = ConfigDict(extra="forbid", strict=True)


SampleTime = Annotated[AwareDatetime, Strict()]


class HeartRateSample(_Lean):
    t: SampleTime = Field(description="When measured (seconds precision is kept)")
    bpm: WholeNumber = Field(ge=BPM_MIN, le=BPM_MAX)


class RepEvent(_Lean):
    t: SampleTime
    exercise_slug: Slug | None = None
    count: WholeNumber = Field(ge=1, le=1000)


class UploadIn(_Lean):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_session_id": "watch-2026-11-24T18:00:00Z",
                    "started_at": "2026-11-24T18:00:00+00:00",
                    "ended_at": "2026-11-24T18:20:00+00:00",
                    "heart_rate": [
                        {"t": "2026-11-24T18:00:01+00:00", "bpm": 82},
                        {"t": "2026-11-24T18:00:02+00:00", "bpm": 84},
                    ],
                    "reps": [
                        {"t": "2026-11-24T18:05:00+00:00", "exercise_slug": "glute-bridge",
                         "count": 5}
                    ],
                    "energy_kcal": 64.5,
                    "device_model": "Pixel Watch 3",
                    "software_version": "2.1.0",
                }
            ]
        },
    )  # fmt: skip

    device_session_id: str = Field(min_length=1, max_length=128, pattern=NO_NUL)
    session_id: Uuid | None = None
    started_at: Instant
    ended_at: Instant
    heart_rate: list[HeartRateSample] = Field(
        default_factory=list, max_length=MAX_HEART_RATE_SAMPLES
    )
    reps: list[RepEvent] = Field(default_factory=list, max_length=MAX_REP_EVENTS)
    energy_kcal: float | None = Field(default=None, ge=0, le=20_000)
    device_model: str | None = Field(default=None, max_length=120, pattern=NO_NUL)
    software_version: str | None = Field(default=None, max_length=64, pattern=NO_NUL)


class HeartRateSummary(BaseModel):
    min: int
    avg: float
    max: int
    samples: int


class ZoneSeconds(BaseModel):
    zone: int = Field(description="1-5: 50-60%, 60-70%, 70-80%, 80-90%, 90-100% of max")
    low_bpm: int
    high_bpm: int
    seconds: int


class WearableSummary(BaseModel):
    duration_seconds: int
    heart_rate: HeartRateSummary | None
    zones: list[ZoneSeconds] | None = Field(
        description="Only when the profile has a birth year (age-predicted maximum)"
    )
    reps: dict[str, int] = Field(description="Total reps per exercise; `unknown` when untagged")
    energy_kcal: float | None


class UploadResult(BaseModel):
    id: uuid.UUID
    matched_session_id: uuid.UUID | None
    summary: WearableSummary


class UploadPublic(UploadResult):
    device_id: uuid.UUID | None
    device_session_id: str
    started_at: Timestamp
    ended_at: Timestamp
    device_model: str | None
    software_version: str | None
    received_at: Timestamp
    updated_at: Timestamp = Field(
        description="When anything shown here last changed (stored, merged with a later "
        "upload of the same recording, matched to a session, its device revoked): the time "
        "`GET /v1/me/uploads?since=` filters on."
    )


class UploadPage(BaseModel):
    items: list[UploadPublic] = Field(
        description="Without `since`: newest recording first. With `since`: those stored or "
        "changed at or after it, oldest change first. Uploads are never deleted but with "
        "the account."
    )
    next_cursor: str | None
