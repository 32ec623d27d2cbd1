"""Catalog shapes: what an exercise is, as written by seed files and admins (as served:
api/schemas/catalog_public.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.domain.screening import CAUTIONS, LIMIT_FIELDS, LIMITABLE_CAUTIONS
from api.schemas.common import Input, refuse_null, schema_without_null
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


EXERCISE_EXAMPLE: dict[str, Any] = {
    "slug": "bird-dog",
    "name": "Bird Dog",
    "category": "strength",
    "summary": "On hands and knees, reach one arm and the opposite leg out to train the core.",
    "aliases": ["quadruped arm and leg raise"],
    "position": "on hands and knees",
    "steps": [
        "Kneel on all fours with your hands under your shoulders and knees under your hips.",
        "Tighten your core and keep your back flat.",
        "Reach your right arm forward and your left leg back until both are level with your body.",
        "Hold for 2 seconds, then return to the start.",
        "Repeat on the other side.",
    ],
    "dose": {
        "sets": 1,
        "reps_min": 5,
        "reps_max": 10,
        "hold_seconds": 2,
        "hold_seconds_max": 5,
        "per_side": True,
        "frequency": "daily",
    },
    "difficulty": 2,
    "muscles": {"primary": ["core", "erector-spinae"], "secondary": ["glutes"]},
    "equipment": {"required": [], "optional": ["mat"]},
    "easier": None,
    "harder": None,
    "safety_notes": ["Keep your back flat; do not let it sag."],
    # On hands and knees with a flat back: none of the positions a screen rules out.
    "cautions": [],
    "caution_limits": {},
    "media": [],
}


# Descriptions of the fields an exercise has as written (ExerciseIn, ExercisePatch) and as
# served (api/schemas/catalog_public.py ExercisePublic), so that every schema says the same.
EXERCISE_DESCRIPTIONS: dict[str, str] = {
    "slug": "Stable id of the exercise, used in URLs and deep links; never changes",
    "name": "Display name; advice messages name the exercise by it",
    "category": "Where it sits in a session; the `category` filter of GET /v1/exercises",
    "summary": "A sentence or two on what it is and what it trains (may be empty); searched by `q`",
    "aliases": "Other names it goes by; searched by `q`",
    "position": "The body position it is done in (`lying face down`)",
    "steps": "How to do it, one instruction a step, in order",
    "dose": "The catalog dose: where a person's routine starts, and the range progression "
    "moves within",
    "difficulty": "How hard it is, from 1 (easiest) to 5 (hardest); the `max_difficulty` "
    "filter reads it",
    "muscles": "Slugs of the muscles it works, by role",
    "equipment": "Slugs of the equipment it needs or can use",
    "easier": "Slug of an easier variation, which a regress at this exercise's lowest "
    "catalog dose moves to if that is less work",
    "harder": "Slug of a harder variation, which progression moves to past this exercise's "
    "top dose",
    "safety_notes": "Safety advice to show with the exercise, one note each",
    "media": "Pictures and clips of the exercise, in display order",
}
_D = EXERCISE_DESCRIPTIONS
_NO_VARIATION = "; null: none"
# In a patch, a value sent replaces the stored one whole; null removes a variation link.
_REPLACED = "; replaced whole"
_CLEARED = "; null removes the link (leave the field out to keep it)"


class ExerciseIn(Input):
    """An exercise as written: the seed files' entries and admins' edits."""

    model_config = ConfigDict(json_schema_extra={"examples": [cast(JsonValue, EXERCISE_EXAMPLE)]})

    slug: Slug = Field(description=_D["slug"])
    name: Name = Field(description=_D["name"])
    category: Category = Field(description=_D["category"])
    summary: str = Field(default="", max_length=1000, description=_D["summary"])
    aliases: list[Alias] = Field(
        default_factory=list, max_length=MAX_ALIASES, description=_D["aliases"]
    )
    position: Annotated[
        str,
        trimmed(120),
    ] = Field(description=_D["position"])
    steps: list[Text] = Field(min_length=1, max_length=MAX_STEPS, description=_D["steps"])
    dose: Dose = Field(description=_D["dose"])
    difficulty: int = Field(ge=1, le=5, description=_D["difficulty"])
    muscles: MuscleRefs = Field(default_factory=MuscleRefs, description=_D["muscles"])
    equipment: EquipmentRefs = Field(default_factory=EquipmentRefs, description=_D["equipment"])
    easier: Slug | None = Field(default=None, description=_D["easier"] + _NO_VARIATION)
    harder: Slug | None = Field(default=None, description=_D["harder"] + _NO_VARIATION)
    safety_notes: list[Text] = Field(
        default_factory=list, max_length=MAX_NOTES, description=_D["safety_notes"]
    )
    # Required, not defaulted: an exercise nobody judged would look safe for everyone.
    cautions: Cautions = Field(
        description=CAUTIONS_DESCRIPTION + " Required: `[]` says it needs none."
    )
    caution_limits: CautionLimits = Field(
        default_factory=dict, description=CAUTION_LIMITS_DESCRIPTION
    )
    media: list[MediaItem] = Field(
        default_factory=list, max_length=MAX_MEDIA, description=_D["media"]
    )

    @field_validator("caution_limits")
    @classmethod
    def _limits_fit_cautions(
        cls, value: dict[str, CautionLimit], info: ValidationInfo
    ) -> dict[str, CautionLimit]:
        # Without valid cautions there is nothing to check against (their error is reported).
        _check_limits(value, info.data.get("cautions"))
        return value

    @field_validator("easier", "harder")
    @classmethod
    def _not_its_own_variation(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("slug"):
            raise ValueError("an exercise cannot be its own variation")
        return value


MUSCLE_SLUG_DESCRIPTION = (
    "Stable id of the muscle, used in exercises' `muscles`, the `muscle` filter and a "
    "session's `focus`"
)
MUSCLE_LOCATION_DESCRIPTION = "Where it is in the body, in plain words"
EQUIPMENT_SLUG_DESCRIPTION = (
    "Stable id of the equipment, used in exercises' `equipment`, the `equipment` filter, "
    "sessions and the profile"
)
EQUIPMENT_DESCRIPTION_DESCRIPTION = "What it is, in a few words (may be empty)"


class MuscleIn(Input):
    slug: Slug = Field(description=MUSCLE_SLUG_DESCRIPTION)
    name: Annotated[
        str,
        trimmed(120),
    ] = Field(description="Display name")
    location: Annotated[
        str,
        trimmed(255),
    ] = Field(description=MUSCLE_LOCATION_DESCRIPTION)


class EquipmentIn(Input):
    slug: Slug = Field(description=EQUIPMENT_SLUG_DESCRIPTION)
    name: Annotated[
        str,
        trimmed(120),
    ] = Field(description="Display name")
    description: str = Field(
        default="", max_length=255, description=EQUIPMENT_DESCRIPTION_DESCRIPTION
    )


class ExerciseReplace(ExerciseIn):
    """A whole exercise for PUT; `slug` must match the path (slugs never change)."""


# Only the variations can be cleared with null; every other field always has a value.
_PATCH_NOT_NULLABLE = (
    "name",
    "category",
    "summary",
    "aliases",
    "position",
    "steps",
    "dose",
    "difficulty",
    "muscles",
    "equipment",
    "safety_notes",
    "cautions",
    "caution_limits",
    "media",
    "archived",
)


def _patch_schema(schema: dict[str, Any]) -> None:
    schema_without_null(*_PATCH_NOT_NULLABLE)(schema)
    schema["examples"] = [
        {
            "steps": [
                "Lie face down on a mat with your arms stretched out in front of you.",
                "Lift your hands and feet about 6 inches (15 cm) off the ground.",
                "Look at the floor to avoid straining your neck.",
                "Hold for 2 seconds, then slowly lower.",
                "Repeat 10 to 15 times.",
            ]
        },
        {"archived": False},
        {
            "cautions": ["spinal-flexion", "supine-lying"],
            "caution_limits": {"supine-lying": {"hold_seconds": 3}},
        },
    ]


class ExercisePatch(Input):
    """Fields to change. Nested objects (dose, muscles, equipment) are replaced whole."""

    model_config = ConfigDict(json_schema_extra=_patch_schema)
    _not_null = field_validator(*_PATCH_NOT_NULLABLE)(refuse_null)

    name: Name | None = Field(default=None, description=_D["name"])
    category: Category | None = Field(default=None, description=_D["category"])
    summary: str | None = Field(default=None, max_length=1000, description=_D["summary"])
    aliases: list[Alias] | None = Field(
        default=None, max_length=MAX_ALIASES, description=_D["aliases"] + _REPLACED
    )
    position: Annotated[str, trimmed(120)] | None = Field(default=None, description=_D["position"])
    steps: list[Text] | None = Field(
        default=None, min_length=1, max_length=MAX_STEPS, description=_D["steps"] + _REPLACED
    )
    dose: Dose | None = Field(default=None, description=_D["dose"] + _REPLACED)
    difficulty: int | None = Field(default=None, ge=1, le=5, description=_D["difficulty"])
    muscles: MuscleRefs | None = Field(default=None, description=_D["muscles"] + _REPLACED)
    equipment: EquipmentRefs | None = Field(default=None, description=_D["equipment"] + _REPLACED)
    easier: Slug | None = Field(default=None, description=_D["easier"] + _CLEARED)
    harder: Slug | None = Field(default=None, description=_D["harder"] + _CLEARED)
    safety_notes: list[Text] | None = Field(
        default=None, max_length=MAX_NOTES, description=_D["safety_notes"] + _REPLACED
    )
    cautions: Cautions | None = Field(
        default=None,
        description=CAUTIONS_DESCRIPTION
        + " Replaced whole; a limit must go with its caution (send caution_limits too).",
    )
    caution_limits: CautionLimits | None = Field(
        default=None, description=CAUTION_LIMITS_DESCRIPTION + " Replaced whole."
    )
    media: list[MediaItem] | None = Field(
        default=None, max_length=MAX_MEDIA, description=_D["media"] + _REPLACED
    )
    archived: bool | None = Field(default=None, description="false restores an archived exercise")
