"""Workout records as the phone platforms give them (issue 20), imported as they are.

Health Connect: one ExerciseSessionRecord and its HeartRateRecords, in the JSON a client
writes from the androidx records' own property names (camelCase: `startTime`,
`startZoneOffset`, `segmentType`, `beatsPerMinute` ...). Types are named, never numbered.
Parsed as strictly and as leanly as an upload (api/schemas/wearable.py): up to 100,000
samples. HealthKit's workouts: api/schemas/healthkit.py; the answer to both: ImportResult.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from api.schemas.types import NO_NUL, Instant, WholeNumber, whole_number
from api.schemas.wearable import (
    MAX_HEART_RATE_SAMPLES,
    ImportedSegment,
    SampleTime,
    WearableSummary,
)

# A zone offset as java.time.ZoneOffset writes it: `Z`, `+02:00`, `-05:30`.
ZONE_OFFSET = r"^(Z|[+-](0\d|1[0-8]):[0-5]\d)$"
MAX_SEGMENTS = 500
MAX_HEART_RATE_RECORDS = 1000
# Health Connect accepts 1-300 beats per minute.
HC_BPM_MIN, HC_BPM_MAX = 1, 300


class Platform(BaseModel):
    """Closed and strict like an upload; property names as the platform writes them."""

    model_config = ConfigDict(
        extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=True
    )


class HcDataOrigin(Platform):
    package_name: str = Field(
        max_length=255, pattern=NO_NUL, description="The app that wrote the record"
    )


class HcDevice(Platform):
    manufacturer: str | None = Field(
        default=None, max_length=120, pattern=NO_NUL, description="The device's maker"
    )
    model: str | None = Field(
        default=None, max_length=120, pattern=NO_NUL, description="The device's model (kept)"
    )
    type: int | str | None = Field(
        default=None, description="Health Connect's device type (watch, phone ...)"
    )


class HcMetadata(Platform):
    id: str = Field(
        min_length=1,
        max_length=128,
        pattern=NO_NUL,
        description="Health Connect's id for the record (an exercise session imported again "
        "with the same id is the same recording)",
    )
    data_origin: HcDataOrigin | None = Field(default=None, description="The writing app")
    device: HcDevice | None = Field(default=None, description="The recording device")
    last_modified_time: SampleTime | None = Field(
        default=None, description="When the record last changed in Health Connect"
    )
    client_record_id: str | None = Field(
        default=None, max_length=255, pattern=NO_NUL, description="The writing app's own id"
    )
    client_record_version: int | None = Field(
        default=None, description="The writing app's version of the record"
    )
    recording_method: int | str | None = Field(
        default=None, description="Health Connect's recording method (active, automatic ...)"
    )


# Bounds first: after the validator, pydantic would write them as unknown keywords.
SetIndex = Annotated[int, Field(ge=0, le=1000), BeforeValidator(whole_number)]


class HcLength(Platform):
    in_meters: float = Field(ge=0, le=1_000_000, description="Length, in metres")


class HcMass(Platform):
    in_kilograms: float = Field(ge=0, le=1000, description="Mass, in kilograms")


class HcSegment(Platform):
    start_time: SampleTime = Field(description="When the segment began")
    end_time: SampleTime = Field(description="When it ended: within the session")
    segment_type: str = Field(
        pattern=r"^EXERCISE_SEGMENT_TYPE_[A-Z_]{1,50}$",
        description="By name (`EXERCISE_SEGMENT_TYPE_BACK_EXTENSION`); a name not mapped "
        "to the catalog is kept and reported",
    )
    repetitions: WholeNumber = Field(
        default=0, ge=0, le=1000, description="Repetitions counted (0 when none)"
    )
    set_index: SetIndex | None = Field(default=None, description="Which set of the exercise it was")
    weight: HcMass | None = Field(default=None, description="The weight used")
    rate_of_perceived_exertion: float | None = Field(
        default=None, ge=0, le=10, description="Effort, 0-10, where the device asked"
    )


class HcLap(Platform):
    start_time: SampleTime = Field(description="When the lap began")
    end_time: SampleTime = Field(description="When it ended")
    length: HcLength | None = Field(default=None, description="Its length")


class HcExerciseSession(Platform):
    start_time: Instant = Field(
        description="When the session began; more than 5 minutes ahead of the server's "
        "clock is a 422 (`in_future`)"
    )
    start_zone_offset: str | None = Field(
        default=None, pattern=ZONE_OFFSET, description="The UTC offset where it began (kept)"
    )
    end_time: Instant = Field(description="When it ended: after the start, at most 24 h later")
    end_zone_offset: str | None = Field(
        default=None, pattern=ZONE_OFFSET, description="The UTC offset where it ended (kept)"
    )
    exercise_type: str = Field(
        pattern=r"^EXERCISE_TYPE_[A-Z_]{1,50}$",
        description="By name (`EXERCISE_TYPE_STRENGTH_TRAINING`); a type Backstrong sessions "
        "are not recorded as (a run) is stored but matched to no session",
    )
    title: str | None = Field(
        default=None, max_length=200, pattern=NO_NUL, description="The session's title"
    )
    notes: str | None = Field(
        default=None, max_length=2000, pattern=NO_NUL, description="The person's notes"
    )
    segments: list[HcSegment] = Field(
        default_factory=list, max_length=MAX_SEGMENTS, description="The exercises done, timed"
    )
    laps: list[HcLap] = Field(
        default_factory=list, max_length=MAX_SEGMENTS, description="Laps (not used)"
    )
    planned_exercise_session_id: str | None = Field(
        default=None, max_length=128, pattern=NO_NUL, description="Its plan's id (not used)"
    )
    metadata: HcMetadata = Field(description="The record's metadata; `id` is required")


class HcHeartRateSample(Platform):
    time: SampleTime = Field(description="When measured (seconds precision is kept)")
    beats_per_minute: WholeNumber = Field(
        ge=HC_BPM_MIN,
        le=HC_BPM_MAX,
        description="As Health Connect allows (1-300); outside 20-250, or outside the "
        "session, a sample is left out and counted (`dropped_samples`)",
    )


class HcHeartRateRecord(Platform):
    start_time: SampleTime = Field(description="When the record began")
    start_zone_offset: str | None = Field(
        default=None, pattern=ZONE_OFFSET, description="Its UTC offset (not used)"
    )
    end_time: SampleTime = Field(description="When it ended")
    end_zone_offset: str | None = Field(
        default=None, pattern=ZONE_OFFSET, description="Its UTC offset (not used)"
    )
    samples: list[HcHeartRateSample] = Field(
        max_length=MAX_HEART_RATE_SAMPLES, description="The samples, in any order"
    )
    metadata: HcMetadata | None = Field(default=None, description="The record's metadata")


class HealthConnectImport(Platform):
    """One exercise session from Health Connect and the heart rate recorded during it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "exerciseSession": {
                        "startTime": "2026-11-24T18:00:00Z",
                        "startZoneOffset": "+01:00",
                        "endTime": "2026-11-24T18:20:00Z",
                        "endZoneOffset": "+01:00",
                        "exerciseType": "EXERCISE_TYPE_STRENGTH_TRAINING",
                        "title": "Back routine",
                        "segments": [
                            {"startTime": "2026-11-24T18:05:00Z",
                             "endTime": "2026-11-24T18:07:00Z",
                             "segmentType": "EXERCISE_SEGMENT_TYPE_HIP_THRUST",
                             "repetitions": 10}
                        ],
                        "metadata": {
                            "id": "5f0c3c6e-hc-record",
                            "dataOrigin": {"packageName": "com.example.watch"},
                            "device": {"manufacturer": "Google", "model": "Pixel Watch 3"},
                        },
                    },
                    "heartRate": [
                        {"startTime": "2026-11-24T18:00:00Z", "endTime": "2026-11-24T18:20:00Z",
                         "samples": [{"time": "2026-11-24T18:00:01Z", "beatsPerMinute": 82}],
                         "metadata": {"id": "hr-record-1"}}
                    ],
                }
            ]
        },
    )  # fmt: skip

    exercise_session: HcExerciseSession = Field(description="The ExerciseSessionRecord")
    heart_rate: list[HcHeartRateRecord] = Field(
        default_factory=list,
        max_length=MAX_HEART_RATE_RECORDS,
        description="The HeartRateRecords read for the session's time",
    )


class ImportResult(BaseModel):
    id: uuid.UUID = Field(description="The recording's id: the same for every import of the record")
    matched_session_id: uuid.UUID | None = Field(
        description="The logged session it overlaps most; else (Health Connect) the latest "
        "unlogged session, built from a day before it began up to its end, that plans an "
        "exercise its segments counted; null when none, or when its exercise type is not "
        "one Backstrong sessions are recorded as (`unmatched_reason`)"
    )
    summary: WearableSummary = Field(description="Summary of the recording")
    platform_record_id: str = Field(description="The platform's id for the record")
    segments: list[ImportedSegment] = Field(description="Its segments, as kept")
    unmapped_segment_types: list[str] = Field(
        description="Segment types not mapped to the catalog: kept, reported here"
    )
    dropped_samples: int = Field(
        description="Heart-rate samples not kept: outside the session, or outside 20-250 "
        "beats per minute (a sensor error)"
    )
    unmatched_reason: str | None = Field(
        description="Why it was matched to no session when that was not for want of one"
    )
    log_filled: bool = Field(
        description="The matched session's log is this recording's segment repetitions "
        "(one set per segment), written because the person had not logged it; the "
        "advice is decided again on it. Never true over a log the person sent"
    )
