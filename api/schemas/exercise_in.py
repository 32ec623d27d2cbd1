"""Exercises, muscles and equipment as admins and seed files write them (the parts they
are made of: api/schemas/catalog.py; as served: api/schemas/catalog_public.py)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from pydantic import (
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
)

from api.schemas.catalog import (
    CAUTION_LIMITS_DESCRIPTION,
    CAUTIONS_DESCRIPTION,
    MAX_ALIASES,
    MAX_MEDIA,
    MAX_NOTES,
    MAX_STEPS,
    Alias,
    Category,
    CautionLimit,
    CautionLimits,
    Cautions,
    Dose,
    EquipmentRefs,
    MediaItem,
    MuscleRefs,
    Name,
    Slug,
    Text,
    _check_limits,
)
from api.schemas.common import Input, refuse_null, schema_without_null
from api.schemas.types import trimmed

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
