"""Health Connect's exercise segment types and the catalog exercises they count (issue 20;
docs/api.md: Wearables)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.catalog import Slug
from api.schemas.common import Input
from api.schemas.types import Timestamp

# The androidx constant's name (`.name`), never its number.
SEGMENT_TYPE_PATTERN = r"^EXERCISE_SEGMENT_TYPE_[A-Z0-9_]{1,40}$"


class SegmentTypeIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"exercise_slug": "glute-bridge"}]})

    exercise_slug: Slug | None = Field(
        description="The catalog exercise whose repetitions a segment of this type counts "
        "(in the summary, and in a session's log an import fills); null: a known type that "
        "counts no catalog exercise (rest, a movement too general to name one)"
    )


class SegmentTypePublic(BaseModel):
    segment_type: str = Field(description="Health Connect's name for it")
    exercise_slug: str | None = Field(description="The catalog exercise it counts; null when none")
    edited: bool = Field(
        description="An admin set it (a later seed keeps it); false: as the seed file has it"
    )
    updated_by: uuid.UUID | None = Field(
        description="The admin who last set it; null when seeded (or that account is gone)"
    )
    updated_at: Timestamp = Field(description="When it was last set")


class SegmentTypeList(BaseModel):
    items: list[SegmentTypePublic] = Field(
        description="Every known segment type, by name; a type not listed is kept in an "
        "import and reported in its `unmapped_segment_types`"
    )
