"""Routine and sessions (docs/api.md: Sessions and logs; logs in api/schemas/logs.py,
progress in api/schemas/progress.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.catalog import Slug
from api.schemas.common import Input
from api.schemas.enums import enum_schema
from api.schemas.logs import LogPublic
from api.schemas.pain import AdvicePublic
from api.schemas.screening import ExcludedPublic, LimitedPublic
from api.schemas.types import Timestamp, Uuid
from api.schemas.wearable import WearableSummary

Block = Literal["warmup", "main", "cooldown"]
_SessionStatus = Literal["planned", "completed"]
SessionStatus = Annotated[
    _SessionStatus,
    enum_schema("SessionStatus", _SessionStatus, "`planned` when built; `completed` once logged."),
]


class SessionCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7e6f5a-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
                    "minutes": 20,
                    "equipment": ["mat", "resistance-band"],
                    "focus": ["glutes"],
                    "exclude": ["superman"],
                }
            ]
        },
    )

    id: Uuid | None = Field(
        default=None, description="Client-generated; a repeat returns the stored session."
    )
    minutes: int | None = Field(
        default=None, ge=5, le=180, description="Time budget; default: the profile's."
    )
    equipment: list[Slug] | None = Field(
        default=None, max_length=20, description="What is at hand; default: the profile's."
    )
    focus: list[Slug] = Field(default_factory=list, max_length=7, description="Muscle slugs")
    exclude: list[Slug] = Field(default_factory=list, max_length=30, description="Exercise slugs")


class SessionItem(BaseModel):
    exercise_slug: str = Field(description="The exercise's catalog slug (the warm-up's too)")
    name: str = Field(description="The exercise's name, to show")
    block: Block = Field(
        description="Its part of the session: `warmup` first, `main` (strength work), then "
        "`cooldown` (stretches)"
    )
    sets: int = Field(description="Sets to do")
    reps: int | None = Field(
        description="Reps in each set (on each side when `per_side`); null when the exercise "
        "is not counted in reps (the warm-up)"
    )
    hold_seconds: int | None = Field(
        description="Seconds to hold each rep; null when there is no hold"
    )
    per_side: bool = Field(description="Each set is done on each side, left and right")
    rest_seconds: int = Field(description="Rest between sets, in seconds (0 for the warm-up)")
    minutes: float = Field(
        description="Estimated minutes for this item, rests and getting into position "
        "included (one decimal)"
    )
    steps: list[str] = Field(
        default_factory=list,
        description="How to do it at this dose: the catalog's steps with the counts and "
        "holds they name replaced by this person's (and a last step for the sets when "
        "there are several). Show these, not the catalog's, beside the dose; empty on "
        "sessions built before steps were personalised",
    )


_NoteKind = Literal[
    "gentle_only", "stretches_only", "warmup_only", "no_warmup", "left_out_for_time", "note"
]


class SessionNote(BaseModel):
    kind: Annotated[
        _NoteKind,
        enum_schema(
            "SessionNoteKind",
            _NoteKind,
            "`gentle_only`: only gentle stretches until a doctor has been seen. "
            "`stretches_only`: only the warm-up and stretches until then. `warmup_only`: "
            "today's session is the warm-up alone (`text` says why). `no_warmup`: the "
            "screening answers leave the warm-up out. `left_out_for_time`: this exercise "
            "did not fit the minutes asked for (one item per exercise). `note`: a session "
            "built before notes had kinds; show `text`.",
        ),
    ] = Field(description="What the note is about, for laying it out")
    text: str = Field(description="A sentence to show as is")
    exercise_slug: str | None = Field(
        default=None, description="The exercise it is about, when it is about one"
    )
    name: str | None = Field(default=None, description="That exercise's name")


class SessionPublic(BaseModel):
    id: uuid.UUID = Field(description="The session's id (the client's, when it sent one)")
    status: SessionStatus = Field(description="`planned` until its log is stored, then `completed`")
    created_at: Timestamp = Field(description="When the session was built")
    updated_at: Timestamp = Field(
        description="When anything shown here last changed (built, logged, corrected, an "
        "upload matched, its device revoked): what `since` filters on"
    )
    minutes: int = Field(
        description="The time budget it was built for, in minutes (the request's or the profile's)"
    )
    estimated_minutes: float = Field(
        description="Estimated length of `items`, in minutes, rounded up to a tenth; never "
        "more than `minutes`"
    )
    equipment: list[str] = Field(
        description="Equipment slugs it was built for (the request's or the profile's)"
    )
    focus: list[str] = Field(description="Muscle slugs it was asked to focus on")
    exclude: list[str] = Field(
        description="Exercise slugs kept out: those asked for, and any a clinician scheduled "
        "to start later"
    )
    advice: AdvicePublic = Field(
        description="The advice when the session was built, which decided what it may hold"
    )
    items: list[SessionItem] = Field(
        description="What to do, in order: warm-up, main work, cool-down"
    )
    dropped: list[str] = Field(
        description="Slugs of the exercises left out to fit `minutes` (`left_out_for_time` notes)"
    )
    notes: list[str] = Field(
        description="What to tell the person about this session, as sentences (the same as "
        "`note_items`, where the exercises left out for time are one sentence)"
    )
    note_items: list[SessionNote] = Field(
        description="The notes as items an app can lay out: by `kind`, with the exercise "
        "each is about"
    )
    log: LogPublic | None = Field(
        description="What was logged; null until `PUT /v1/sessions/{id}/log`"
    )
    wearable: WearableSummary | None = Field(
        description="Combined summary of the wearable uploads matched to this session"
    )


class SessionPage(BaseModel):
    items: list[SessionPublic] = Field(
        description="Oldest change first by `updated_at`; with `since`, those changed at or "
        "after it"
    )
    next_cursor: str | None = Field(
        description="Pass back as `cursor` for the next page; null on the last page"
    )


class RoutineItemPublic(BaseModel):
    exercise_slug: str = Field(description="The exercise's catalog slug")
    name: str = Field(description="The exercise's name, to show")
    sets: int = Field(description="Sets per session at the current dose")
    reps: int | None = Field(
        description="Reps in each set (on each side when `per_side`); null when the exercise "
        "is not counted in reps"
    )
    hold_seconds: int | None = Field(
        description="Seconds to hold each rep; null when there is no hold"
    )
    per_side: bool = Field(description="Each set is done on each side, left and right")
    level: int = Field(
        description="1 = the catalog's easiest dose; +1 per step up; 0 and below are the "
        "steps under it that a regress can take (ruleset v2)"
    )
    left_out: bool = Field(
        default=False,
        description="Left out of sessions for now (a regress below the lowest step); the "
        "dose shown is the one it comes back at, after 2 sessions without pain trouble",
    )
    steps: list[str] = Field(
        default_factory=list,
        description="How to do it at this dose: the catalog's steps with the counts and "
        "holds they name replaced by this person's (and a last step for the sets when "
        "there are several). Show these, not the catalog's, beside the dose. Empty for an "
        "exercise left out, and in `GET /v1/progress`",
    )


class RoutinePublic(BaseModel):
    items: list[RoutineItemPublic] = Field(
        description="The exercises in force, by slug, at their current doses (those left out "
        "for now with `left_out`)"
    )
    advice: AdvicePublic = Field(description="The advice now")
    excluded: list[ExcludedPublic] = Field(
        description="Exercises the screening answers leave out, and why (not in `items`)"
    )
    limited: list[LimitedPublic] = Field(
        description="Exercises kept at a limited dose because of a screening answer"
    )


class LogResult(BaseModel):
    log: LogPublic = Field(description="The log as stored")
    advice: AdvicePublic = Field(description="The advice now, with this log counted")
    next_doses: list[RoutineItemPublic] = Field(
        description="The routine after this log, as `GET /v1/routine` lists its `items`"
    )
