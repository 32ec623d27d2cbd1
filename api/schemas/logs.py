"""Workout logs: what was done in a session, as sent and as shown (docs/api.md: Sessions
and logs)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.catalog import Slug
from api.schemas.common import Input
from api.schemas.types import Instant, Timestamp

# Far beyond any set of these exercises; past it the number is a typo or a counting fault.
MAX_REPS_PER_SET = 200


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
    import_id: uuid.UUID | None = Field(
        default=None,
        description="The recording (`GET /v1/me/uploads`, its `id`) whose segment repetitions "
        "filled this log because the session had not been logged; null for a log the person "
        "sent. The person's own log replaces a filled one without If-Match, and an import "
        "never changes a log the person sent",
    )
    received_at: Timestamp = Field(description="When the server first stored the log")
    updated_at: Timestamp = Field(description="When the log was last stored or corrected")
