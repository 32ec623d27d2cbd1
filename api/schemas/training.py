"""Routine, sessions, logs and progress (docs/api.md: Sessions and logs)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.catalog import Slug
from api.schemas.common import Input
from api.schemas.enums import enum_schema
from api.schemas.pain import AdvicePublic
from api.schemas.screening import ExcludedPublic, LimitedPublic
from api.schemas.types import Instant, Timestamp, Uuid
from api.schemas.wearable import WearableSummary

Block = Literal["warmup", "main", "cooldown"]
_SessionStatus = Literal["planned", "completed"]
SessionStatus = Annotated[
    _SessionStatus,
    enum_schema("SessionStatus", _SessionStatus, "`planned` when built; `completed` once logged."),
]
# Far beyond any set of these exercises; past it the number is a typo or a counting fault.
MAX_REPS_PER_SET = 200


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
    exercise_slug: str
    name: str
    block: Block
    sets: int
    reps: int | None
    hold_seconds: int | None
    per_side: bool
    rest_seconds: int
    minutes: float


class Load(Input):
    """What an exercise was done against: a weight, a band, or both."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"kg": 4}, {"band": "red"}]})

    kg: float | None = Field(
        default=None,
        gt=0,
        le=300,
        description="The weight in kilograms (for dumbbells, one hand's)",
    )
    band: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="The resistance band's colour or level as its maker names it "
        "(`red`, `level 3`)",
    )


class LogEntryIn(Input):
    exercise_slug: Slug
    sets_completed: int = Field(ge=0, le=10)
    reps: list[Annotated[int, Field(ge=0, le=MAX_REPS_PER_SET)]] = Field(
        default_factory=list, max_length=10, description="Reps in each set"
    )
    hold_seconds: int | None = Field(default=None, ge=0, le=600)
    rpe: int | None = Field(default=None, ge=0, le=10, description="Effort, 0-10")
    pain_during: int | None = Field(default=None, ge=0, le=10)
    skipped: bool = False
    skip_reason: str | None = Field(default=None, max_length=200)
    load: Load | None = Field(
        default=None,
        description="What it was done against (the dumbbell row, the lat pulldown with a "
        "band); kept with the log, for the person's and their clinician's record",
    )

    @model_validator(mode="after")
    def _consistent(self) -> LogEntryIn:
        if not self.skipped and len(self.reps) != self.sets_completed:
            raise ValueError("give the reps of each completed set (len(reps) == sets_completed)")
        return self


class LogIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "started_at": "2026-11-24T18:00:00+01:00",
                    "ended_at": "2026-11-24T18:22:00+01:00",
                    "entries": [
                        {
                            "exercise_slug": "glute-bridge",
                            "sets_completed": 1,
                            "reps": [5],
                            "hold_seconds": 2,
                            "rpe": 4,
                            "pain_during": 2,
                        },
                        {
                            "exercise_slug": "superman",
                            "sets_completed": 0,
                            "skipped": True,
                            "skip_reason": "no mat today",
                        },
                    ],
                    "pain_after": 2,
                }
            ]
        },
    )

    started_at: Instant = Field(
        description="When the session began. Up to 5 minutes ahead of the server's clock is "
        "accepted (device clocks drift) and stored as the time of arrival; further ahead is a "
        "422 (`in_future`)."
    )
    ended_at: Instant = Field(
        description="When it ended: not before `started_at`, at most 6 hours after it; a "
        "time ahead of the server's clock is stored as the time of arrival."
    )
    entries: list[LogEntryIn] = Field(min_length=1, max_length=30)
    pain_after: int | None = Field(default=None, ge=0, le=10)


class LogPublic(BaseModel):
    session_id: uuid.UUID
    started_at: Timestamp
    ended_at: Timestamp
    entries: list[LogEntryIn]
    pain_after: int | None
    version: int = Field(description="1, then +1 for each correction")
    received_at: Timestamp
    updated_at: Timestamp


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
    ]
    text: str = Field(description="A sentence to show as is")
    exercise_slug: str | None = Field(
        default=None, description="The exercise it is about, when it is about one"
    )
    name: str | None = Field(default=None, description="That exercise's name")


class SessionPublic(BaseModel):
    id: uuid.UUID
    status: SessionStatus
    created_at: Timestamp
    updated_at: Timestamp
    minutes: int
    estimated_minutes: float
    equipment: list[str]
    focus: list[str]
    exclude: list[str]
    advice: AdvicePublic
    items: list[SessionItem]
    dropped: list[str]
    notes: list[str] = Field(
        description="What to tell the person about this session, as sentences (the same as "
        "`note_items`, where the exercises left out for time are one sentence)"
    )
    note_items: list[SessionNote] = Field(
        description="The notes as items an app can lay out: by `kind`, with the exercise "
        "each is about"
    )
    log: LogPublic | None
    wearable: WearableSummary | None = Field(
        description="Combined summary of the wearable uploads matched to this session"
    )


class SessionPage(BaseModel):
    items: list[SessionPublic]
    next_cursor: str | None


class RoutineItemPublic(BaseModel):
    exercise_slug: str
    name: str
    sets: int
    reps: int | None
    hold_seconds: int | None
    per_side: bool
    level: int = Field(
        description="1 = the catalog's easiest dose; +1 per step up; 0 and below are the "
        "steps under it that a regress can take (ruleset v2)"
    )
    left_out: bool = Field(
        default=False,
        description="Left out of sessions for now (a regress below the lowest step); the "
        "dose shown is the one it comes back at, after 2 sessions without pain trouble",
    )


class RoutinePublic(BaseModel):
    items: list[RoutineItemPublic]
    advice: AdvicePublic
    excluded: list[ExcludedPublic] = Field(
        description="Exercises the screening answers leave out, and why (not in `items`)"
    )
    limited: list[LimitedPublic] = Field(
        description="Exercises kept at a limited dose because of a screening answer"
    )


class LogResult(BaseModel):
    log: LogPublic
    advice: AdvicePublic
    next_doses: list[RoutineItemPublic]


class DoseStep(BaseModel):
    at: Timestamp
    rule_id: str
    exercise_slug: str = Field(description="Differs when the step moved to a variation")
    sets: int
    reps: int | None
    hold_seconds: int | None


class ExerciseProgress(BaseModel):
    exercise_slug: str
    name: str
    active: bool
    current: RoutineItemPublic
    history: list[DoseStep]


class Adherence(BaseModel):
    sessions_per_week: float = Field(description="Completed sessions per week, last 4 weeks")
    streak_days: int = Field(description="Days in a row with a session, in your time zone")
    minutes_last_7_days: float
    sessions_total: int


class PainDay(BaseModel):
    date: date
    mean: float
    min: int
    max: int
    count: int


class ProgressPublic(BaseModel):
    timezone: str
    exercises: list[ExerciseProgress]
    adherence: Adherence
    pain: list[PainDay]
    excluded: list[ExcludedPublic] = Field(
        description="Exercises the screening answers leave out, and why"
    )
    limited: list[LimitedPublic] = Field(
        description="Exercises kept at a limited dose because of a screening answer"
    )
