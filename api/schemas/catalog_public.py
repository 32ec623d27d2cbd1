"""Catalog shapes as served: exercises with their links resolved, pages, revisions."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from api.schemas.catalog import (
    CAUTION_LIMITS_DESCRIPTION,
    CAUTIONS_DESCRIPTION,
    Category,
    Caution,
    Dose,
    MediaItem,
)
from api.schemas.exercise_in import (
    EQUIPMENT_DESCRIPTION_DESCRIPTION,
    EQUIPMENT_SLUG_DESCRIPTION,
    EXERCISE_DESCRIPTIONS,
    EXERCISE_EXAMPLE,
    MUSCLE_LOCATION_DESCRIPTION,
    MUSCLE_SLUG_DESCRIPTION,
    ExerciseIn,
)
from api.schemas.types import Timestamp

_D = EXERCISE_DESCRIPTIONS
NEXT_CURSOR_DESCRIPTION = "Pass it back as `cursor` for the next page; null on the last page"
ONE_PAGE_DESCRIPTION = "Always null: the whole list comes in one page"


class CautionLimitPublic(BaseModel):
    """Every field shown; null: no limit on it."""

    sets: int | None = Field(default=None, description="At most this many sets; null: no limit")
    reps: int | None = Field(
        default=None, description="At most this many reps a set; null: no limit"
    )
    hold_seconds: int | None = Field(
        default=None, description="Holds of at most this many seconds; null: no limit"
    )


class MusclePublic(BaseModel):
    slug: str = Field(description=MUSCLE_SLUG_DESCRIPTION)
    name: str = Field(description="Display name")
    location: str = Field(description=MUSCLE_LOCATION_DESCRIPTION)


class EquipmentPublic(BaseModel):
    slug: str = Field(description=EQUIPMENT_SLUG_DESCRIPTION)
    name: str = Field(description="Display name")
    description: str = Field(description=EQUIPMENT_DESCRIPTION_DESCRIPTION)


class MuscleLink(MusclePublic):
    role: Literal["primary", "secondary"] = Field(
        description="`primary`: a muscle it mainly works; `secondary`: one it also works"
    )


class EquipmentLink(BaseModel):
    slug: str = Field(description=EQUIPMENT_SLUG_DESCRIPTION)
    name: str = Field(description="Display name")
    optional: bool = Field(
        description="false: needed to do the exercise; true: helps but is not needed"
    )


class VariationLink(BaseModel):
    slug: str = Field(description="The variation's slug")
    name: str = Field(description="The variation's display name")
    href: str = Field(description="Its path in this API (`/v1/exercises/{slug}`)")


class ExercisePublic(BaseModel):
    slug: str = Field(description=_D["slug"])
    name: str = Field(description=_D["name"])
    category: Category = Field(description=_D["category"])
    summary: str = Field(description=_D["summary"])
    aliases: list[str] = Field(description=_D["aliases"])
    position: str = Field(description=_D["position"])
    steps: list[str] = Field(description=_D["steps"])
    dose: Dose = Field(description=_D["dose"])
    difficulty: int = Field(description=_D["difficulty"])
    muscles: list[MuscleLink] = Field(description="Muscles it works: primary first, then by slug")
    equipment: list[EquipmentLink] = Field(
        description="Equipment it uses: required first, then by slug"
    )
    easier: VariationLink | None = Field(
        description="An easier variation, which a regress at this exercise's lowest catalog "
        "dose moves to if that is less work; null: none"
    )
    harder: VariationLink | None = Field(
        description="A harder variation, which progression moves to past this exercise's top "
        "dose; null: none"
    )
    safety_notes: list[str] = Field(description=_D["safety_notes"])
    cautions: list[Caution] = Field(description=CAUTIONS_DESCRIPTION)
    caution_limits: dict[Caution, CautionLimitPublic] = Field(
        description=CAUTION_LIMITS_DESCRIPTION
    )
    media: list[MediaItem] = Field(description=_D["media"])
    archived: bool = Field(
        description="Archived: left out of new sessions, and of lists unless "
        "`include_archived`; still served by slug"
    )
    version: int = Field(
        description="1 when created, +1 for every change (the `version` of its latest revision)"
    )
    updated_at: Timestamp = Field(description="When it last changed")


class ExercisePage(BaseModel):
    items: list[ExercisePublic] = Field(
        description="Warm-ups first, then strength, then stretches, by slug within each"
    )
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)


class MusclePage(BaseModel):
    items: list[MusclePublic] = Field(description="Every muscle, by slug")
    next_cursor: str | None = Field(default=None, description=ONE_PAGE_DESCRIPTION)


class EquipmentPage(BaseModel):
    items: list[EquipmentPublic] = Field(description="Every piece of equipment, by slug")
    next_cursor: str | None = Field(default=None, description=ONE_PAGE_DESCRIPTION)


class ExerciseState(ExerciseIn):
    """An exercise as a revision stored it: its written form (as `PUT` takes it) and
    whether it was archived. Documents `before` / `after`; a revision stored by an
    earlier version may lack fields added since."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{**EXERCISE_EXAMPLE, "archived": False}]},
    )

    archived: bool = Field(description="Whether the exercise was archived in this state")
    # Stored only since cautions were added (revisions before them lack it).
    cautions: list[Caution] = Field(default_factory=list, description=CAUTIONS_DESCRIPTION)


def _state(nullable: bool) -> dict[str, JsonValue]:
    ref: dict[str, JsonValue] = {"$ref": "#/components/schemas/ExerciseState"}
    # Served as stored (older revisions included), so only the document is typed.
    return {"anyOf": [ref, {"type": "null"}]} if nullable else {"allOf": [ref]}


class RevisionPublic(BaseModel):
    id: uuid.UUID = Field(description="The revision's id")
    exercise_slug: str = Field(description="The exercise it changed")
    version: int = Field(description="The exercise's version this change made")
    action: Literal["create", "update", "archive", "restore"] = Field(
        description="`create`; `update`: an edit; `archive`; `restore`: archived set back to false"
    )
    source: Literal["api", "seed"] = Field(
        description="`api`: an admin's edit; `seed`: the seed loader (`backstrong seed`)"
    )
    actor_id: uuid.UUID | None = Field(
        description="The admin who made it; null for the seed, or once that account is deleted"
    )
    created_at: Timestamp = Field(description="When the change was made")
    before: dict[str, Any] | None = Field(
        description="The exercise before this revision; null when it created it",
        json_schema_extra=_state(nullable=True),
    )
    after: dict[str, Any] = Field(
        description="The exercise as this revision left it", json_schema_extra=_state(False)
    )


class RevisionPage(BaseModel):
    items: list[RevisionPublic] = Field(description="Revisions, newest first")
    next_cursor: str | None = Field(description=NEXT_CURSOR_DESCRIPTION)
