"""A workout as HealthKit records it (issue 20): an HKWorkout and its heart-rate
HKQuantitySamples, with HealthKit's own property names; activity types by their Swift
case name. The answer is api/schemas/health_imports.py's ImportResult."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, StringConstraints, model_validator
from typing_extensions import TypedDict

from api.schemas.health_imports import MAX_SEGMENTS, Platform
from api.schemas.types import NO_NUL, Instant
from api.schemas.wearable import MAX_HEART_RATE_SAMPLES, SampleTime


class HkQuantity(TypedDict):
    """Typed dicts, not models, for what comes 10,000 times: a third of the parse time."""

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    unit: Annotated[Literal["count/min"], Field(description="HealthKit's `count/min`")]
    value: Annotated[float, Field(ge=0, le=1000, description="Beats per minute")]


class HkEnergy(Platform):
    unit: Literal["kcal", "kJ"] = Field(description="`kcal` or `kJ`")
    value: float = Field(ge=0, le=100_000, description="Energy burned, in that unit")


class HkDevice(Platform):
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


# HealthKit metadata is a dictionary any app may add keys to (`HKAverageMETs`, its own):
# taken as a bounded map of scalars and quantities, read only where named below.
METADATA_KEY = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"
MAX_METADATA_KEYS = 40


class HkMetadataQuantity(Platform):
    """An HKQuantity metadata value, as {unit, value} (`HKAverageMETs`: kcal/hr·kg)."""

    unit: str = Field(min_length=1, max_length=32, pattern=NO_NUL, description="Its unit")
    value: float = Field(ge=-1e9, le=1e9, description="Its value in that unit")


HkMetadataValue = (
    bool | int | float | Annotated[str, Field(max_length=200, pattern=NO_NUL)] | HkMetadataQuantity
)
HkMetadataMap = Annotated[
    dict[Annotated[str, StringConstraints(pattern=METADATA_KEY)], HkMetadataValue],
    Field(max_length=MAX_METADATA_KEYS, json_schema_extra={"additionalProperties": False}),
]


def _bounded_map(schema: dict[str, Any]) -> None:
    """The other keys, as the document says them: a pattern, a value type, a bound."""
    values = schema.pop("additionalProperties")
    schema["patternProperties"] = {METADATA_KEY: values}
    schema["additionalProperties"] = False
    schema["maxProperties"] = MAX_METADATA_KEYS


class HkWorkoutMetadata(Platform):
    """The workout's metadata: the keys named here are read; any other is accepted
    (a number, a boolean, a string or a quantity), bounded and not kept."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_bounded_map)
    __pydantic_extra__: dict[str, HkMetadataValue]

    @model_validator(mode="after")
    def _other_keys(self) -> HkWorkoutMetadata:
        extra = self.model_extra or {}
        wrong = [k for k in extra if not re.fullmatch(METADATA_KEY, k)]
        if wrong:
            raise ValueError(f"metadata keys are 1-64 letters, digits, _ . or -: {wrong[0][:64]!r}")
        if len(self.model_fields_set) > MAX_METADATA_KEYS:  # extra keys included
            raise ValueError(f"at most {MAX_METADATA_KEYS} metadata keys")
        return self

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


class HkWorkoutConfiguration(Platform):
    activity_type: str = Field(
        pattern=r"^[a-zA-Z]{1,64}$", description="HKWorkoutActivityType, by name"
    )


class HkWorkoutActivity(Platform):
    uuid: str = Field(min_length=1, max_length=128, pattern=NO_NUL, description="Its id")
    workout_configuration: HkWorkoutConfiguration = Field(description="What it was")
    start_date: SampleTime = Field(description="When it began")
    end_date: SampleTime | None = Field(default=None, description="When it ended")
    duration: float | None = Field(default=None, ge=0, le=86_400, description="Seconds")


class HkWorkout(Platform):
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
    metadata: NotRequired[
        Annotated[HkMetadataMap, Field(description="Its metadata (accepted, not kept)")]
    ]
    quantity: Annotated[
        HkQuantity,
        Field(
            description="Rounded to whole beats; outside 20-250, or outside the workout, a "
            "sample is left out and counted (`dropped_samples`)"
        ),
    ]


class HealthKitImport(Platform):
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
