"""Catalog shapes: what an exercise is, as written by seed files and admins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from api.schemas.common import Input, refuse_null, schema_without_null
from api.schemas.types import trimmed

Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
Text = Annotated[str, trimmed(1000)]
Category = Literal["warmup", "strength", "stretch"]

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
    sets: int = Field(default=1, ge=1, le=MAX_SETS)
    reps_min: int | None = Field(default=None, ge=1, le=MAX_REPS)
    reps_max: int | None = Field(default=None, ge=1, le=MAX_REPS)
    hold_seconds: int | None = Field(default=None, ge=1, le=MAX_HOLD_SECONDS)
    hold_seconds_max: int | None = Field(default=None, ge=1, le=MAX_HOLD_SECONDS)
    minutes_min: int | None = Field(default=None, ge=1, le=MAX_MINUTES)
    minutes_max: int | None = Field(default=None, ge=1, le=MAX_MINUTES)
    per_side: bool = False
    frequency: str | None = Field(default=None, max_length=120)

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
    primary: list[Slug] = Field(default_factory=list, max_length=MAX_MUSCLES)
    secondary: list[Slug] = Field(default_factory=list, max_length=MAX_MUSCLES)

    @model_validator(mode="after")
    def _no_overlap(self) -> MuscleRefs:
        both = set(self.primary) & set(self.secondary)
        if both:
            raise ValueError(f"muscles listed as both primary and secondary: {sorted(both)}")
        return self


class EquipmentRefs(Input):
    required: list[Slug] = Field(default_factory=list, max_length=MAX_EQUIPMENT)
    optional: list[Slug] = Field(default_factory=list, max_length=MAX_EQUIPMENT)

    @model_validator(mode="after")
    def _no_overlap(self) -> EquipmentRefs:
        both = set(self.required) & set(self.optional)
        if both:
            raise ValueError(f"equipment listed as both required and optional: {sorted(both)}")
        return self


class MediaItem(Input):
    url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://")]
    kind: Literal["image", "video", "animation"] = "image"
    caption: str | None = Field(default=None, max_length=200)


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
    "media": [],
}


class ExerciseIn(Input):
    """An exercise as written: the seed files' entries and admins' edits."""

    model_config = ConfigDict(json_schema_extra={"examples": [cast(JsonValue, EXERCISE_EXAMPLE)]})

    slug: Slug
    name: Name
    category: Category
    summary: str = Field(default="", max_length=1000)
    aliases: list[Alias] = Field(default_factory=list, max_length=MAX_ALIASES)
    position: Annotated[
        str,
        trimmed(120),
    ]
    steps: list[Text] = Field(min_length=1, max_length=MAX_STEPS)
    dose: Dose
    difficulty: int = Field(ge=1, le=5)
    muscles: MuscleRefs = Field(default_factory=MuscleRefs)
    equipment: EquipmentRefs = Field(default_factory=EquipmentRefs)
    easier: Slug | None = None
    harder: Slug | None = None
    safety_notes: list[Text] = Field(default_factory=list, max_length=MAX_NOTES)
    media: list[MediaItem] = Field(default_factory=list, max_length=MAX_MEDIA)

    @field_validator("easier", "harder")
    @classmethod
    def _not_its_own_variation(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value == info.data.get("slug"):
            raise ValueError("an exercise cannot be its own variation")
        return value


class MuscleIn(Input):
    slug: Slug
    name: Annotated[
        str,
        trimmed(120),
    ]
    location: Annotated[
        str,
        trimmed(255),
    ]


class EquipmentIn(Input):
    slug: Slug
    name: Annotated[
        str,
        trimmed(120),
    ]
    description: str = Field(default="", max_length=255)


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
    ]


class ExercisePatch(Input):
    """Fields to change. Nested objects (dose, muscles, equipment) are replaced whole."""

    model_config = ConfigDict(json_schema_extra=_patch_schema)
    _not_null = field_validator(*_PATCH_NOT_NULLABLE)(refuse_null)

    name: Name | None = None
    category: Category | None = None
    summary: str | None = Field(default=None, max_length=1000)
    aliases: list[Alias] | None = Field(default=None, max_length=MAX_ALIASES)
    position: Annotated[str, trimmed(120)] | None = None
    steps: list[Text] | None = Field(default=None, min_length=1, max_length=MAX_STEPS)
    dose: Dose | None = None
    difficulty: int | None = Field(default=None, ge=1, le=5)
    muscles: MuscleRefs | None = None
    equipment: EquipmentRefs | None = None
    easier: Slug | None = None
    harder: Slug | None = None
    safety_notes: list[Text] | None = Field(default=None, max_length=MAX_NOTES)
    media: list[MediaItem] | None = Field(default=None, max_length=MAX_MEDIA)
    archived: bool | None = Field(default=None, description="false restores an archived exercise")


class MusclePublic(BaseModel):
    slug: str
    name: str
    location: str


class EquipmentPublic(BaseModel):
    slug: str
    name: str
    description: str


class MuscleLink(MusclePublic):
    role: Literal["primary", "secondary"]


class EquipmentLink(BaseModel):
    slug: str
    name: str
    optional: bool


class VariationLink(BaseModel):
    slug: str
    name: str
    href: str


class ExercisePublic(BaseModel):
    slug: str
    name: str
    category: Category
    summary: str
    aliases: list[str]
    position: str
    steps: list[str]
    dose: Dose
    difficulty: int
    muscles: list[MuscleLink]
    equipment: list[EquipmentLink]
    easier: VariationLink | None
    harder: VariationLink | None
    safety_notes: list[str]
    media: list[MediaItem]
    archived: bool
    version: int
    updated_at: datetime


class ExercisePage(BaseModel):
    items: list[ExercisePublic]
    next_cursor: str | None


class MusclePage(BaseModel):
    items: list[MusclePublic]
    next_cursor: str | None = None


class EquipmentPage(BaseModel):
    items: list[EquipmentPublic]
    next_cursor: str | None = None


class RevisionPublic(BaseModel):
    id: uuid.UUID
    exercise_slug: str
    version: int
    action: Literal["create", "update", "archive", "restore"]
    source: Literal["api", "seed"]
    actor_id: uuid.UUID | None
    created_at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any]


class RevisionPage(BaseModel):
    items: list[RevisionPublic]
    next_cursor: str | None
