"""Catalog shapes: what an exercise is, as written by seed files and admins (as served:
api/schemas/catalog_public.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from api.domain.screening import CAUTIONS, LIMIT_FIELDS, LIMITABLE_CAUTIONS
from api.schemas.common import Input
from api.schemas.enums import enum_schema
from api.schemas.types import trimmed

Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
Text = Annotated[str, trimmed(1000)]
_Category = Literal["warmup", "strength", "stretch"]
Category = Annotated[
    _Category,
    enum_schema(
        "Category",
        _Category,
        "Where it sits in a session: `warmup` first, `strength` the main work, `stretch` "
        "at the end.",
    ),
]

# Sane bounds for a home back-exercise dose; anything outside is a typo.
MAX_SETS = 10
MAX_REPS = 100
MAX_HOLD_SECONDS = 120
MAX_MINUTES = 60
# Bounds on an exercise's lists: the seed catalog uses at most 8 steps, 4 safety notes,
# 3 aliases and 3 muscles per role; these leave room while keeping a body small.
MAX_STEPS = 30
MAX_NOTES = 20
MAX_MEDIA = 20
MAX_ALIASES = 20
MAX_MUSCLES = 20
MAX_EQUIPMENT = 10

Alias = Annotated[str, StringConstraints(min_length=1, max_length=80)]
Name = Annotated[str, trimmed(120)]


class Dose(Input):
    sets: int = Field(
        default=1,
        ge=1,
        le=MAX_SETS,
        description="Sets, where a new routine starts; progression may add sets (up to 3)",
    )
    reps_min: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REPS,
        description="Reps a set, where a new routine starts; given with reps_max, or null: "
        "not dosed in reps",
    )
    reps_max: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REPS,
        description="Most reps a set: progression raises reps from reps_min up to this",
    )
    hold_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_HOLD_SECONDS,
        description="Seconds each rep is held, where a new routine starts; given with "
        "hold_seconds_max, or null: no hold",
    )
    hold_seconds_max: int | None = Field(
        default=None,
        ge=1,
        le=MAX_HOLD_SECONDS,
        description="Longest hold in seconds: progression lengthens holds up to this once "
        "reps are at reps_max",
    )
    minutes_min: int | None = Field(
        default=None,
        ge=1,
        le=MAX_MINUTES,
        description="Shortest time in minutes, for an exercise done for a time (the warm-up); "
        "given with minutes_max, or null",
    )
    minutes_max: int | None = Field(
        default=None,
        ge=1,
        le=MAX_MINUTES,
        description="Longest time in minutes; null when minutes_min is",
    )
    per_side: bool = Field(
        default=False,
        description="true: sets, reps and holds are done on each side in turn (twice the work)",
    )
    frequency: str | None = Field(
        default=None,
        max_length=120,
        description="How often to do it, as text to show (`daily`); null: not said",
    )

    @model_validator(mode="after")
    def _ranges_ordered(self) -> Dose:
        for low, high in (
            ("reps_min", "reps_max"),
            ("hold_seconds", "hold_seconds_max"),
            ("minutes_min", "minutes_max"),
        ):
            lo, hi = getattr(self, low), getattr(self, high)
            if (lo is None) != (hi is None):
                raise ValueError(f"{low} and {high} must be given together")
            if lo is not None and hi is not None and lo > hi:
                raise ValueError(f"{low} ({lo}) must not exceed {high} ({hi})")
        if self.reps_min is None and self.hold_seconds is None and self.minutes_min is None:
            raise ValueError("a dose needs reps, a hold time or minutes")
        return self


class MuscleRefs(Input):
    primary: list[Slug] = Field(
        default_factory=list,
        max_length=MAX_MUSCLES,
        description="Slugs of the muscles it mainly works (see /v1/muscles)",
    )
    secondary: list[Slug] = Field(
        default_factory=list,
        max_length=MAX_MUSCLES,
        description="Slugs of muscles it also works; none of them may be primary too",
    )

    @model_validator(mode="after")
    def _no_overlap(self) -> MuscleRefs:
        both = set(self.primary) & set(self.secondary)
        if both:
            raise ValueError(f"muscles listed as both primary and secondary: {sorted(both)}")
        return self


class EquipmentRefs(Input):
    required: list[Slug] = Field(
        default_factory=list,
        max_length=MAX_EQUIPMENT,
        description="Slugs of the equipment it needs (see /v1/equipment): sessions and the "
        "`equipment` filter leave it out unless all of them are at hand",
    )
    optional: list[Slug] = Field(
        default_factory=list,
        max_length=MAX_EQUIPMENT,
        description="Slugs of equipment that helps but is not needed (a mat, a chair)",
    )

    @model_validator(mode="after")
    def _no_overlap(self) -> EquipmentRefs:
        both = set(self.required) & set(self.optional)
        if both:
            raise ValueError(f"equipment listed as both required and optional: {sorted(both)}")
        return self


# The fixed set (docs/api.md, "Screening"; api/domain/screening.py CAUTIONS, which a test
# keeps equal to this): what a screen answer can rule out on an exercise.
_Caution = Literal[
    "spinal-flexion", "spinal-rotation", "prone-lying", "supine-lying", "spinal-extension"
]
Caution = Annotated[
    _Caution,
    enum_schema(
        "Caution",
        _Caution,
        "A position or movement a screening answer can rule out (see an exercise's `cautions`).",
    ),
]
MAX_CAUTIONS = len(CAUTIONS)
CAUTIONS_DESCRIPTION = (
    "Positions and movements in this exercise that a screening answer (/v1/me/screening) "
    "can rule out: osteoporosis rules out spinal-flexion and spinal-rotation; pregnancy "
    "past 12 weeks rules out prone-lying and limits supine-lying; stenosis or "
    "spondylolisthesis rules out spinal-extension. Each at most once."
)
CAUTION_LIMITS_DESCRIPTION = (
    "Where a screen limits a caution rather than ruling it out (today only supine-lying, "
    "in pregnancy past 12 weeks), the exercise is kept at no more than this dose instead "
    "of left out; without a limit it is left out. Keys: cautions this exercise has, of "
    f"those that can be limited ({', '.join(sorted(LIMITABLE_CAUTIONS))})."
)


def _each_once(cautions: list[str]) -> list[str]:
    twice = sorted({c for c in cautions if cautions.count(c) > 1})
    if twice:
        raise ValueError(f"listed more than once: {', '.join(twice)}")
    return cautions


Cautions = Annotated[
    list[Caution],
    Field(max_length=MAX_CAUTIONS, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_each_once),
]


def _unset(value: int | None) -> bool:
    return value is None


def _limit_schema(schema: dict[str, Any]) -> None:
    schema["minProperties"] = 1
    # At least one of them with a number, not null: {"sets": null} limits nothing and is
    # refused (the fuzzer found the document allowed it).
    schema["anyOf"] = [
        {"required": [name], "not": {"properties": {name: {"type": "null"}}}}
        for name in LIMIT_FIELDS
    ]


class CautionLimit(Input):
    """The most this exercise is done at while its caution is limited: give at least one."""

    model_config = ConfigDict(json_schema_extra=_limit_schema)

    # Null is "no limit on this" (as served, so a read exercise can be written back);
    # only what a limit sets is dumped (stored and compared): never a null.
    sets: int | None = Field(
        default=None, ge=1, le=MAX_SETS, exclude_if=_unset, description="At most this many sets"
    )
    reps: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REPS,
        exclude_if=_unset,
        description="At most this many reps a set",
    )
    hold_seconds: int | None = Field(
        default=None,
        ge=1,
        le=MAX_HOLD_SECONDS,
        exclude_if=_unset,
        description="Holds of at most this many seconds",
    )

    @model_validator(mode="after")
    def _something_limited(self) -> CautionLimit:
        if all(getattr(self, name) is None for name in LIMIT_FIELDS):
            raise ValueError(f"give at least one of {', '.join(LIMIT_FIELDS)}")
        return self


def _limits_schema(schema: dict[str, Any]) -> None:
    # Only limitable cautions may be keys: say so, rather than "any caution".
    limit = schema.pop("additionalProperties")
    schema.pop("propertyNames", None)
    schema["properties"] = dict.fromkeys(sorted(LIMITABLE_CAUTIONS), limit)
    schema["additionalProperties"] = False


CautionLimits = Annotated[
    dict[Caution, CautionLimit],
    Field(max_length=len(LIMITABLE_CAUTIONS), json_schema_extra=_limits_schema),
]


def _check_limits(limits: dict[str, CautionLimit], cautions: list[str] | None) -> None:
    """Keys must be limitable and, when the cautions are known, among them."""
    problems: list[str] = []
    for caution in limits:
        if caution not in LIMITABLE_CAUTIONS:
            problems.append(
                f"{caution} cannot be limited: a screen that rules it out leaves the exercise "
                f"out (only {', '.join(sorted(LIMITABLE_CAUTIONS))} can be limited)"
            )
        elif cautions is not None and caution not in cautions:
            problems.append(f"{caution} is not among this exercise's cautions")
    if problems:
        raise ValueError("; ".join(problems))


MediaUrl = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://")]


class MediaItem(Input):
    """A picture or clip of the exercise, for an app to lay out before it loads."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://media.example.org/superman.mp4",
                    "kind": "video",
                    "thumbnail_url": "https://media.example.org/superman.jpg",
                    "alt": "Lying face down, lifting both arms and legs a little off the mat",
                    "duration_seconds": 12,
                }
            ]
        }
    )

    url: MediaUrl = Field(description="Where the picture or clip is (http or https)")
    kind: Literal["image", "video", "animation"] = Field(
        default="image", description="A still `image`, a `video` or an `animation`"
    )
    caption: str | None = Field(
        default=None, max_length=200, description="Text to show with it; null: none"
    )
    thumbnail_url: MediaUrl | None = Field(
        default=None, description="A still image to show while a video or animation loads"
    )
    alt: str | None = Field(
        default=None,
        max_length=300,
        description="What the media shows, in words, for screen readers and failed loads",
    )
    duration_seconds: float | None = Field(
        default=None, gt=0, le=3600, description="Length of a video or animation"
    )
