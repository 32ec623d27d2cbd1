"""Workout records as the phone platforms give them (issue 20), imported as they are.

Health Connect: one ExerciseSessionRecord and its HeartRateRecords, in the JSON a client
writes from the androidx records' own property names (camelCase: `startTime`,
`startZoneOffset`, `segmentType`, `beatsPerMinute` ...). Types are named, never numbered.
Parsed as strictly and as leanly as an upload (api/schemas/wearable.py): up to 100,000
samples.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from typing_extensions import TypedDict

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


class _Platform(BaseModel):
    """Closed and strict like an upload; property names as the platform writes them."""

    model_config = ConfigDict(
        extra="forbid", strict=True, alias_generator=to_camel, populate_by_name=True
    )


class HcDataOrigin(_Platform):
    package_name: str = Field(
        max_length=255, pattern=NO_NUL, description="The app that wrote the record"
    )


class HcDevice(_Platform):
    manufacturer: str | None = Field(
        default=None, max_length=120, pattern=NO_NUL, description="The device's maker"
    )
    model: str | None = Field(
        default=None, max_length=120, pattern=NO_NUL, description="The device's model (kept)"
    )
    type: int | str | None = Field(
        default=None, description="Health Connect's device type (watch, phone ...)"
    )


class HcMetadata(_Platform):
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


class HcLength(_Platform):
    in_meters: float = Field(ge=0, le=1_000_000, description="Length, in metres")


class HcMass(_Platform):
    in_kilograms: float = Field(ge=0, le=1000, description="Mass, in kilograms")


class HcSegment(_Platform):
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


class HcLap(_Platform):
    start_time: SampleTime = Field(description="When the lap began")
    end_time: SampleTime = Field(description="When it ended")
    length: HcLength | None = Field(default=None, description="Its length")


class HcExerciseSession(_Platform):
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


class HcHeartRateSample(_Platform):
    time: SampleTime = Field(description="When measured (seconds precision is kept)")
    beats_per_minute: WholeNumber = Field(
        ge=HC_BPM_MIN,
        le=HC_BPM_MAX,
        description="As Health Connect allows (1-300); outside 20-250, or outside the "
        "session, a sample is left out and counted (`dropped_samples`)",
    )


class HcHeartRateRecord(_Platform):
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


class HealthConnectImport(_Platform):
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


class HkQuantity(TypedDict):
    """Typed dicts, not models, for what comes 10,000 times: a third of the parse time."""

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    unit: Annotated[Literal["count/min"], Field(description="HealthKit's `count/min`")]
    value: Annotated[float, Field(ge=0, le=1000, description="Beats per minute")]


class HkEnergy(_Platform):
    unit: Literal["kcal", "kJ"] = Field(description="`kcal` or `kJ`")
    value: float = Field(ge=0, le=100_000, description="Energy burned, in that unit")


class HkDevice(_Platform):
    name: str | None = Field(default=None, max_length=120, pattern=NO_NUL, description="Name")
    manufacturer: str | None = Field(
        default=None, max_length=120, pattern=NO_NUL, description="The device's maker"
    )
    model: str | None = Field(
        default=None, max_length=120, pattern=NO_NUL, description="The device's model (kept)"
    )
    hardware_version: str | None = Field(
        default=None, max_length=64, pattern=NO_NUL, description="Hardware version"
    )
    software_version: str | None = Field(
        default=None, max_length=64, pattern=NO_NUL, description="Software version"
    )


class HkWorkoutMetadata(_Platform):
    hk_time_zone: str | None = Field(
        default=None,
        alias="HKTimeZone",
        max_length=64,
        pattern=NO_NUL,
        description="The IANA time zone the workout was in: its offsets are kept",
    )
    hk_indoor_workout: bool | None = Field(
        default=None, alias="HKIndoorWorkout", description="Indoors"
    )
    hk_was_user_entered: bool | None = Field(
        default=None, alias="HKWasUserEntered", description="Entered by hand"
    )
    hk_external_uuid: str | None = Field(
        default=None,
        alias="HKExternalUUID",
        max_length=128,
        pattern=NO_NUL,
        description="The writing app's own id",
    )


class HkWorkoutConfiguration(_Platform):
    activity_type: str = Field(
        pattern=r"^[a-zA-Z]{1,64}$", description="HKWorkoutActivityType, by name"
    )


class HkWorkoutActivity(_Platform):
    uuid: str = Field(min_length=1, max_length=128, pattern=NO_NUL, description="Its id")
    workout_configuration: HkWorkoutConfiguration = Field(description="What it was")
    start_date: SampleTime = Field(description="When it began")
    end_date: SampleTime | None = Field(default=None, description="When it ended")
    duration: float | None = Field(default=None, ge=0, le=86_400, description="Seconds")


class HkWorkout(_Platform):
    uuid: str = Field(
        min_length=1,
        max_length=128,
        pattern=NO_NUL,
        description="HealthKit's id for the workout: imported again, it is the same recording",
    )
    workout_activity_type: str = Field(
        pattern=r"^[a-zA-Z]{1,64}$",
        description="HKWorkoutActivityType by name (`traditionalStrengthTraining`); a type "
        "Backstrong sessions are not recorded as is stored but matched to no session",
    )
    start_date: Instant = Field(
        description="When it began; more than 5 minutes ahead of the server's clock is a 422"
    )
    end_date: Instant = Field(description="When it ended: after the start, at most 24 h later")
    duration: float | None = Field(default=None, ge=0, le=86_400, description="Seconds")
    total_energy_burned: HkEnergy | None = Field(default=None, description="Energy burned")
    metadata: HkWorkoutMetadata | None = Field(default=None, description="Its metadata")
    workout_activities: list[HkWorkoutActivity] = Field(
        default_factory=list, max_length=MAX_SEGMENTS, description="Its activities (iOS 16+)"
    )
    device: HkDevice | None = Field(default=None, description="The recording device")


class HkHeartRateSample(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    uuid: NotRequired[Annotated[str, Field(max_length=128, pattern=NO_NUL, description="Its id")]]
    startDate: Annotated[  # noqa: N815 (HealthKit's own name)
        SampleTime, Field(description="When measured (seconds precision is kept)")
    ]
    endDate: NotRequired[  # noqa: N815
        Annotated[SampleTime, Field(description="Its end (as its start)")]
    ]
    quantity: Annotated[
        HkQuantity,
        Field(
            description="Rounded to whole beats; outside 20-250, or outside the workout, a "
            "sample is left out and counted (`dropped_samples`)"
        ),
    ]


class HealthKitImport(_Platform):
    """One HKWorkout and the heart-rate HKQuantitySamples recorded during it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workout": {
                        "uuid": "6E3A4B5C-1D2E-4F60-8A9B-0C1D2E3F4A5B",
                        "workoutActivityType": "traditionalStrengthTraining",
                        "startDate": "2026-11-24T18:00:00Z",
                        "endDate": "2026-11-24T18:20:00Z",
                        "duration": 1200,
                        "totalEnergyBurned": {"unit": "kcal", "value": 64.5},
                        "metadata": {"HKTimeZone": "Europe/Madrid"},
                        "device": {"name": "Apple Watch", "model": "Watch"},
                    },
                    "heartRate": [
                        {"uuid": "A1", "startDate": "2026-11-24T18:00:05Z",
                         "endDate": "2026-11-24T18:00:05Z",
                         "quantity": {"unit": "count/min", "value": 88}}
                    ],
                }
            ]
        },
    )  # fmt: skip

    workout: HkWorkout = Field(description="The HKWorkout")
    heart_rate: list[HkHeartRateSample] = Field(
        default_factory=list,
        max_length=MAX_HEART_RATE_SAMPLES,
        description="Heart-rate HKQuantitySamples of the workout's time",
    )
