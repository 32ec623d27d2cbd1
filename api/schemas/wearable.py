"""Wearable upload shapes. They map onto Google Health Connect (ExerciseSessionRecord
with segments, HeartRateRecord samples) and Apple HealthKit (HKWorkout) without loss:
start/end, heart-rate samples (time, beats per minute), repetition events per
exercise, energy, and the device's model and software version."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, Strict

from api.schemas.catalog import Slug
from api.schemas.enums import UploadSource
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
    bpm: WholeNumber = Field(
        ge=BPM_MIN,
        le=BPM_MAX,
        description="Beats per minute; outside 20-250 is refused (a sensor error)",
    )


class RepEvent(_Lean):
    t: SampleTime = Field(
        description="When counted, within `started_at`..`ended_at`; of an exercise's events in "
        "one second, the first is kept"
    )
    exercise_slug: Slug | None = Field(
        default=None, description="The catalog exercise; null when unknown (summed as `unknown`)"
    )
    count: WholeNumber = Field(ge=1, le=1000, description="Reps counted in this event")


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

    device_session_id: str = Field(
        min_length=1,
        max_length=128,
        pattern=NO_NUL,
        description="The device's own id for the recording: uploads with the same one merge "
        "into one recording",
    )
    session_id: Uuid | None = Field(
        default=None,
        description="The person's session this records; leave out to match the logged "
        "session the recording overlaps most",
    )
    started_at: Instant = Field(
        description="When the recording began; more than 5 minutes ahead of the server's "
        "clock is a 422 (`in_future`)"
    )
    ended_at: Instant = Field(
        description="When the recording ended: after `started_at`, at most 24 hours later"
    )
    heart_rate: list[HeartRateSample] = Field(
        default_factory=list,
        max_length=MAX_HEART_RATE_SAMPLES,
        description="Samples within `started_at`..`ended_at`, in any order; a second already "
        "stored keeps its first value",
    )
    reps: list[RepEvent] = Field(
        default_factory=list,
        max_length=MAX_REP_EVENTS,
        description="Repetition counts, within `started_at`..`ended_at`",
    )
    energy_kcal: float | None = Field(
        default=None,
        ge=0,
        le=20_000,
        description="Energy burned, in kilocalories, as the device reports it; replaces an "
        "earlier upload's",
    )
    device_model: str | None = Field(
        default=None,
        max_length=120,
        pattern=NO_NUL,
        description="The device's model name (`Pixel Watch 3`)",
    )
    software_version: str | None = Field(
        default=None,
        max_length=64,
        pattern=NO_NUL,
        description="The version of the device's software that recorded it",
    )


class HeartRateSummary(BaseModel):
    min: int = Field(description="The lowest sample, in beats per minute")
    avg: float = Field(description="The mean of the samples, in beats per minute (one decimal)")
    max: int = Field(description="The highest sample, in beats per minute")
    samples: int = Field(description="How many samples (at most one per second of a recording)")


class ZoneSeconds(BaseModel):
    zone: int = Field(description="1-5: 50-60%, 60-70%, 70-80%, 80-90%, 90-100% of max")
    low_bpm: int = Field(description="The zone's lowest heart rate, beats per minute (included)")
    high_bpm: int = Field(
        description="The zone's upper bound, beats per minute (excluded; zone 5 counts any "
        "rate above it too)"
    )
    seconds: int = Field(
        description="Seconds in the zone: each sample counts until the next, at most 5 s"
    )


class WearableSummary(BaseModel):
    duration_seconds: int = Field(
        description="Seconds recorded: the recording's length; for a session, its recordings' "
        "total (their span when from several devices)"
    )
    heart_rate: HeartRateSummary | None = Field(
        description="Heart-rate figures; null when no samples were uploaded"
    )
    zones: list[ZoneSeconds] | None = Field(
        description="Only when the profile has a birth year (age-predicted maximum)"
    )
    reps: dict[str, int] = Field(description="Total reps per exercise; `unknown` when untagged")
    energy_kcal: float | None = Field(
        description="Energy burned, in kilocalories, as the device reported it; null when none was"
    )


class UploadResult(BaseModel):
    id: uuid.UUID = Field(
        description="The recording's id: uploads with the same device and `device_session_id` "
        "get the same"
    )
    matched_session_id: uuid.UUID | None = Field(
        description="The session it belongs to: as given, or the logged session it overlaps "
        "most; null when none"
    )
    summary: WearableSummary = Field(
        description="Summary of the whole recording so far (all its uploads merged)"
    )


class ImportedSegment(BaseModel):
    start_time: str = Field(description="As recorded (UTC)")
    end_time: str = Field(description="As recorded (UTC)")
    segment_type: str = Field(description="The platform's name for it")
    exercise_slug: str | None = Field(
        description="The catalog exercise it maps to; null for rest, a movement too general "
        "to name one, or a type not mapped"
    )
    repetitions: int = Field(description="Repetitions recorded (0 when none)")
    rate_of_perceived_exertion: float | None = Field(
        default=None, description="Effort, 0-10, as the device asked it; null when not asked"
    )


class UploadPublic(UploadResult):
    device_id: uuid.UUID | None = Field(
        description="The device that uploaded it; null once that device is revoked"
    )
    device_session_id: str = Field(description="The device's own id for the recording")
    started_at: Timestamp = Field(
        description="When the recording began (the earliest of its uploads, to the second)"
    )
    ended_at: Timestamp = Field(description="When it ended (the latest of its uploads)")
    device_model: str | None = Field(
        description="The device's model, as last reported; null when never given"
    )
    software_version: str | None = Field(
        description="The device's software version, as last reported; null when never given"
    )
    source: UploadSource = Field(
        description="How it came: a device's upload, or an import of a platform's record"
    )
    platform_record_id: str | None = Field(
        description="Imports: the platform's id for the record; null for uploads"
    )
    exercise_type: str | None = Field(
        description="Imports: the platform's exercise type, by name; null for uploads"
    )
    start_offset: str | None = Field(
        description="Imports: the UTC offset where it began (`+01:00`); null when not given"
    )
    end_offset: str | None = Field(
        description="Imports: the UTC offset where it ended; null when not given"
    )
    segments: list[ImportedSegment] | None = Field(
        description="Imports: its segments as kept; null for uploads"
    )
    unmatched_reason: str | None = Field(
        description="Why it is matched to no session when that is not for want of one"
    )
    received_at: Timestamp = Field(description="When the first upload of the recording was stored")
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
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; null on the last page"
    )
