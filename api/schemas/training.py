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
    exercise_slug: Slug = Field(
        description="An exercise of this session (its `items[].exercise_slug`), once per log"
    )
    sets_completed: int = Field(
        ge=0, le=10, description="Sets done; unless `skipped`, `reps` has one number per set"
    )
    reps: list[Annotated[int, Field(ge=0, le=MAX_REPS_PER_SET)]] = Field(
        default_factory=list, max_length=10, description="Reps in each set"
    )
    hold_seconds: int | None = Field(
        default=None,
        ge=0,
        le=600,
        description="Seconds each rep was held; where a hold is prescribed, less (or none) rules "
        "out a step up",
    )
    rpe: int | None = Field(default=None, ge=0, le=10, description="Effort, 0-10")
    pain_during: int | None = Field(
        default=None,
        ge=0,
        le=10,
        description="Pain during this exercise, 0-10; above 5 (default) eases it back, and none "
        "means no step up",
    )
    skipped: bool = Field(
        default=False,
        description="Not done this time: the rules do not count it as a session of this exercise",
    )
    skip_reason: str | None = Field(
        default=None,
        max_length=200,
        description="Why it was skipped, in the person's words; kept with the log, not read "
        "by the rules",
    )
    load: Load | None = Field(
        default=None,
        description="What it was done against (the dumbbell row, the lat pulldown with a "
        "band); kept with the log, for the person's and their clinician's record",
    )

    @model_validator(mode="after")
    def _consistent(self) -> LogEntryIn:
        if self.load is not None and self.load.kg is None and self.load.band is None:
            self.load = None  # `{}` says nothing: stored (and digested) as no load
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
    entries: list[LogEntryIn] = Field(
        min_length=1,
        max_length=30,
        description="What was done (or skipped) of the session's exercises, one entry each",
    )
    pain_after: int | None = Field(
        default=None,
        ge=0,
        le=10,
        description="Pain right after the session, 0-10; above 5 (default) eases back the "
        "session's exercises",
    )


class LogPublic(BaseModel):
    session_id: uuid.UUID = Field(description="The session this log is of")
    started_at: Timestamp = Field(
        description="When the session began, in UTC (a time ahead of the server's clock is "
        "stored as the time of arrival)"
    )
    ended_at: Timestamp = Field(description="When the session ended, in UTC")
    entries: list[LogEntryIn] = Field(description="The entries as sent")
    pain_after: int | None = Field(
        description="Pain right after the session, 0-10; null when not given"
    )
    version: int = Field(description="1, then +1 for each correction")
    received_at: Timestamp = Field(description="When the server first stored the log")
    updated_at: Timestamp = Field(description="When the log was last stored or corrected")


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


class DoseStep(BaseModel):
    at: Timestamp = Field(description="When the step was decided, in UTC")
    rule_id: str = Field(
        description="The rule that moved the dose: `P4` up; `P1`, `P2` or `F1` down"
    )
    exercise_slug: str = Field(description="Differs when the step moved to a variation")
    sets: int = Field(description="Sets after the step; 0 when it left the exercise out")
    reps: int | None = Field(
        description="Reps in each set after the step; null when not counted in reps"
    )
    hold_seconds: int | None = Field(
        description="Seconds to hold each rep after the step; null when there is no hold"
    )


class ExerciseProgress(BaseModel):
    exercise_slug: str = Field(description="The exercise's catalog slug")
    name: str = Field(description="The exercise's name (its slug if no longer in the catalog)")
    active: bool = Field(
        description="False for a variation not in use: a harder one not reached yet, or one "
        "a step moved off"
    )
    current: RoutineItemPublic = Field(
        description="Its dose and level now, as the next write will store them"
    )
    history: list[DoseStep] = Field(description="Its dose changes, oldest first")


class Adherence(BaseModel):
    sessions_per_week: float = Field(description="Completed sessions per week, last 4 weeks")
    streak_days: int = Field(description="Days in a row with a session, in your time zone")
    minutes_last_7_days: float = Field(
        description="Minutes of the sessions logged in the last 7 days, start to end (one decimal)"
    )
    sessions_total: int = Field(description="Sessions logged, ever")


class PainDay(BaseModel):
    # Annotated, not `date: date = Field(...)`: that would shadow the type `date` in the class.
    date: Annotated[date, Field(description="The person's local calendar day (see `timezone`)")]
    mean: float = Field(
        description="Mean rest pain (0-10) of that day's `daily` and `next_morning` "
        "check-ins, two decimals"
    )
    min: int = Field(description="The lowest of those check-ins' pain, 0-10")
    max: int = Field(description="The highest of those check-ins' pain, 0-10")
    count: int = Field(description="How many rest-pain check-ins that day")


class ProgressPublic(BaseModel):
    timezone: str = Field(
        description="The profile's IANA time zone the days are counted in (`Europe/London`)"
    )
    exercises: list[ExerciseProgress] = Field(
        description="Every exercise of the routine, by slug, with its dose history"
    )
    adherence: Adherence = Field(description="How regularly sessions are logged")
    pain: list[PainDay] = Field(
        description="Rest pain per local day over the last `days` days, oldest first; days "
        "without a rest-pain check-in are absent"
    )
    excluded: list[ExcludedPublic] = Field(
        description="Exercises the screening answers leave out, and why"
    )
    limited: list[LimitedPublic] = Field(
        description="Exercises kept at a limited dose because of a screening answer"
    )
