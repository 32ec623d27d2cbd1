"""Catalog shapes as served: exercises with their links resolved, pages, revisions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas.catalog import (
    CAUTION_LIMITS_DESCRIPTION,
    CAUTIONS_DESCRIPTION,
    Category,
    Caution,
    Dose,
    MediaItem,
)


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
