"""Pain check-ins, stored advice and per-person rule thresholds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, offset_text, utcnow


def _user_fk() -> Column[uuid.UUID]:
    return Column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


class CheckInRow(SQLModel, table=True):
    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("pain BETWEEN 0 AND 10", name="pain_range"),
        CheckConstraint(
            "phase IN ('daily', 'before', 'during', 'after', 'next_morning')", name="phase_known"
        ),
        Index("ix_checkins_user_id_recorded_at", "user_id", "recorded_at"),
        Index("ix_checkins_user_id_received_at", "user_id", "received_at"),
        # The rule service asks for the latest emergency and the latest resolution
        # ever; these make both one index seek however long the history is.
        Index(
            "ix_checkins_user_id_cauda_equina_recorded_at", "user_id", "cauda_equina", "recorded_at"
        ),
        Index(
            "ix_checkins_user_id_red_flags_resolved_recorded_at",
            "user_id",
            "red_flags_resolved",
            "recorded_at",
        ),
        Index(
            "ix_checkins_user_id_serious_cause_recorded_at",
            "user_id",
            "serious_cause",
            "recorded_at",
        ),
        Index("ix_checkins_user_id_night_pain_recorded_at", "user_id", "night_pain", "recorded_at"),
        Index(
            "ix_checkins_user_id_infection_or_fracture_recorded_at",
            "user_id",
            "infection_or_fracture",
            "recorded_at",
        ),
        Index(
            "ix_checkins_user_id_cancer_concern_recorded_at",
            "user_id",
            "cancer_concern",
            "recorded_at",
        ),
        # Ruleset v2: the assessment with the latest date ever, one index seek.
        Index("ix_checkins_user_id_assessed_at", "user_id", "assessed_at"),
        # The latest "no" to night pain ever (RF3 stays cleared by it), and the latest and
        # first check-ins of a phase (rest pain), one index seek each.
        Index(
            "ix_checkins_user_id_night_pain_denied_recorded_at",
            "user_id",
            "night_pain_denied",
            "recorded_at",
        ),
        Index("ix_checkins_user_id_phase_recorded_at", "user_id", "phase", "recorded_at"),
    )

    # Client-generated when offline, so retries never duplicate.
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_user_fk())
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The UTC offset recorded_at came with, in minutes (the person's local time then);
    # None for check-ins stored before it was kept.
    recorded_offset_minutes: int | None = None
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    phase: str = Field(max_length=16)
    pain: int
    session_id: uuid.UUID | None = None
    exercise_slug: str | None = Field(default=None, max_length=64)
    locations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    radiating_below_knee: bool | None = None
    leg_numbness: bool | None = None
    # The answers given, flag -> true/false; a flag not asked is absent.
    red_flags: dict[str, bool] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    cauda_equina: bool = False
    serious_cause: bool = False
    night_pain: bool = False
    # Ruleset v2 splits the serious causes: RF2 (infection, fracture), RF2b (cancer).
    infection_or_fracture: bool = False
    cancer_concern: bool = False
    # Answered "no" to night pain (RF3 is cleared by a later rest check-in saying so).
    night_pain_denied: bool = False
    red_flags_resolved: bool = False
    # Who assessed the person after a red flag, and when (ruleset v2); "unspecified" for
    # a v1 resolution, kept valid by the v2 migration.
    assessed_by: str | None = Field(default=None, max_length=32)
    assessed_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    note: str | None = Field(default=None, max_length=1000)
    # Hash of the submitted body, so a retry can be told from a conflicting reuse of an id.
    body_hash: str = Field(max_length=64)

    @property
    def recorded_offset(self) -> str | None:
        """The offset recorded_at was sent with, as ISO 8601 writes it (`+05:30`)."""
        return offset_text(self.recorded_offset_minutes)

    @property
    def assessment(self) -> dict[str, Any] | None:
        """The assessment recorded with a resolution, as clients see it."""
        if self.assessed_by is None or self.assessed_at is None:
            return None
        return {"assessed_by": self.assessed_by, "assessed_at": self.assessed_at}


class AdviceRow(SQLModel, table=True):
    __tablename__ = "advice"
    __table_args__ = (Index("ix_advice_user_id_evaluated_at", "user_id", "evaluated_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_user_fk())
    status: str = Field(max_length=16)
    reasons: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    exercises: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    ruleset_version: str = Field(max_length=16)
    evaluated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Ruleset v2; None on advice stored before it.
    next_checkin_due_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    stale: bool | None = None
    # What makes two evaluations "the same advice": status, rules and actions.
    fingerprint: str = Field(max_length=64)


class UserThresholds(SQLModel, table=True):
    """A linked clinician's overrides of the rule thresholds, within safe bounds."""

    __tablename__ = "user_thresholds"

    user_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    values: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid(), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
