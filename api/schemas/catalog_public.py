"""Catalog shapes as served: exercises with their links resolved, pages, revisions."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from api.schemas.catalog import (
    CAUTION_LIMITS_DESCRIPTION,
    CAUTIONS_DESCRIPTION,
    EXERCISE_EXAMPLE,
    Category,
    Caution,
    Dose,
    ExerciseIn,
    MediaItem,
)
from api.schemas.types import Timestamp


class CautionLimitPublic(BaseModel):
    """Every field shown; null: no limit on it."""

    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None


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
    cautions: list[Caution] = Field(description=CAUTIONS_DESCRIPTION)
    caution_limits: dict[Caution, CautionLimitPublic] = Field(
        description=CAUTION_LIMITS_DESCRIPTION
    )
    media: list[MediaItem]
    archived: bool
    version: int
    updated_at: Timestamp


class ExercisePage(BaseModel):
    items: list[ExercisePublic]
    next_cursor: str | None


class MusclePage(BaseModel):
    items: list[MusclePublic]
    next_cursor: str | None = None


class EquipmentPage(BaseModel):
    items: list[EquipmentPublic]
    next_cursor: str | None = None


class ExerciseState(ExerciseIn):
    """An exercise as a revision stored it: its written form (as `PUT` takes it) and
    whether it was archived. Documents `before` / `after`; a revision stored by an
    earlier version may lack fields added since."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{**EXERCISE_EXAMPLE, "archived": False}]},
    )

    archived: bool
    # Stored only since cautions were added (revisions before them lack it).
    cautions: list[Caution] = Field(default_factory=list, description=CAUTIONS_DESCRIPTION)


def _state(nullable: bool) -> dict[str, JsonValue]:
    ref: dict[str, JsonValue] = {"$ref": "#/components/schemas/ExerciseState"}
    # Served as stored (older revisions included), so only the document is typed.
    return {"anyOf": [ref, {"type": "null"}]} if nullable else {"allOf": [ref]}


class RevisionPublic(BaseModel):
    id: uuid.UUID
    exercise_slug: str
    version: int
    action: Literal["create", "update", "archive", "restore"]
    source: Literal["api", "seed"]
    actor_id: uuid.UUID | None
    created_at: Timestamp
    before: dict[str, Any] | None = Field(
        description="The exercise before this revision; null when it created it",
        json_schema_extra=_state(nullable=True),
    )
    after: dict[str, Any] = Field(
        description="The exercise as this revision left it", json_schema_extra=_state(False)
    )


class RevisionPage(BaseModel):
    items: list[RevisionPublic]
    next_cursor: str | None
