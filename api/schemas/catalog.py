"""Catalog shapes: what an exercise is, as written by seed files and admins."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Category = Literal["warmup", "strength", "stretch"]

# Sane bounds for a home back-exercise dose; anything outside is a typo.
MAX_SETS = 10
MAX_REPS = 100
MAX_HOLD_SECONDS = 120
MAX_MINUTES = 60


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dose(Strict):
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


class MuscleRefs(Strict):
    primary: list[Slug] = Field(default_factory=list)
    secondary: list[Slug] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_overlap(self) -> MuscleRefs:
        both = set(self.primary) & set(self.secondary)
        if both:
            raise ValueError(f"muscles listed as both primary and secondary: {sorted(both)}")
        return self


class EquipmentRefs(Strict):
    required: list[Slug] = Field(default_factory=list)
    optional: list[Slug] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_overlap(self) -> EquipmentRefs:
        both = set(self.required) & set(self.optional)
        if both:
            raise ValueError(f"equipment listed as both required and optional: {sorted(both)}")
        return self


class MediaItem(Strict):
    url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://")]
    kind: Literal["image", "video", "animation"] = "image"
    caption: str | None = Field(default=None, max_length=200)


class ExerciseIn(Strict):
    """An exercise as written: the seed files' entries, and (later) admin edits."""

    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    category: Category
    summary: str = Field(default="", max_length=1000)
    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=80)]] = Field(
        default_factory=list
    )
    position: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    steps: list[Text] = Field(min_length=1, max_length=30)
    dose: Dose
    difficulty: int = Field(ge=1, le=5)
    muscles: MuscleRefs = Field(default_factory=MuscleRefs)
    equipment: EquipmentRefs = Field(default_factory=EquipmentRefs)
    easier: Slug | None = None
    harder: Slug | None = None
    safety_notes: list[Text] = Field(default_factory=list, max_length=20)
    media: list[MediaItem] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _not_its_own_variation(self) -> ExerciseIn:
        if self.slug in (self.easier, self.harder):
            raise ValueError("an exercise cannot be its own easier or harder variation")
        return self


class MuscleIn(Strict):
    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    location: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class EquipmentIn(Strict):
    slug: Slug
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    description: str = Field(default="", max_length=255)
