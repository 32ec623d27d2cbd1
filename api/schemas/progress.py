"""Progress for charts: doses over time, adherence and daily pain (GET /v1/progress)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.screening import ExcludedPublic, LimitedPublic
from api.schemas.training import RoutineItemPublic
from api.schemas.types import Timestamp


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


class OutcomePoint(BaseModel):
    recorded_at: Timestamp = Field(description="When it was answered (UTC)")
    score: float = Field(description="Its score")
    band: str | None = Field(description="Its band; null when the instrument has none")


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
    outcomes: dict[str, list[OutcomePoint]] = Field(
        description="Outcome measure scores over the last `days` days, by instrument (`odi`, "
        "`psfs`, `nrs-weekly`, `startback`), oldest first; an instrument never answered "
        "then is absent"
    )
    excluded: list[ExcludedPublic] = Field(
        description="Exercises the screening answers leave out, and why"
    )
    limited: list[LimitedPublic] = Field(
        description="Exercises kept at a limited dose because of a screening answer"
    )
