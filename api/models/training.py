"""The routine (current doses), planned sessions, their logs, and the dose-change ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


def _user_fk() -> Column[uuid.UUID]:
    return Column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _time(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class RoutineItem(SQLModel, table=True):
    """A person's current dose of one exercise."""

    __tablename__ = "routine_items"

    user_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    exercise_slug: str = Field(primary_key=True, max_length=64)
    sets: int
    reps: int | None = None
    hold_seconds: int | None = None
    per_side: bool = False
    # A harder variation waits (inactive) until the easier one is mastered.
    active: bool = True
    # 0 sets: left out of sessions (below the ladder's bottom rung) until brought back.
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class DoseChange(SQLModel, table=True):
    """One applied decision of the rule service: the ledger that makes it happen once."""

    __tablename__ = "dose_changes"
    __table_args__ = (
        UniqueConstraint("user_id", "decision_key", name="uq_dose_changes_user_id_decision_key"),
        Index("ix_dose_changes_user_id_at", "user_id", "at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_user_fk())
    # rule : exercise : source (the check-in, session or day that triggered it)
    decision_key: str = Field(max_length=300)
    rule_id: str = Field(max_length=8)
    source: str = Field(max_length=64)
    exercise_slug: str = Field(max_length=64)
    to_exercise_slug: str = Field(max_length=64)
    at: datetime = Field(sa_column=_time())
    from_dose: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    to_dose: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class TrainingSession(SQLModel, table=True):
    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'completed')", name="status_known"),
        Index("ix_sessions_user_id_updated_at", "user_id", "updated_at"),
        Index("ix_sessions_user_id_created_at", "user_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_user_fk())
    status: str = Field(default="planned", max_length=16)
    minutes: int
    equipment: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    focus: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    exclude: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    advice_status: str = Field(max_length=16)
    # The advice the session was built under, as the app showed it.
    advice: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dropped: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    items: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    notes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The notes as items ({kind, text, exercise_slug, name}); None on sessions built before
    # they were kept (their `notes` are shown as items of kind `note`).
    note_items: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    estimated_minutes: float
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class SessionLogRow(SQLModel, table=True):
    __tablename__ = "session_logs"
    __table_args__ = (
        Index("ix_session_logs_user_id_started_at", "user_id", "started_at"),
        # The FHIR export pages a person's logs by when they last changed.
        Index("ix_session_logs_user_id_updated_at", "user_id", "updated_at"),
    )

    session_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    user_id: uuid.UUID = Field(sa_column=_user_fk())
    started_at: datetime = Field(sa_column=_time())
    ended_at: datetime = Field(sa_column=_time())
    entries: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    pain_after: int | None = None
    body_hash: str = Field(max_length=64)
    version: int = 1
    # The import (a recording in /v1/me/uploads) whose segment reps filled this log because
    # the person had not logged the session; None for a log the person sent. Their own log
    # replaces a filled one without If-Match, and an import never writes over theirs.
    import_id: uuid.UUID | None = Field(default=None, sa_column=Column(Uuid(), nullable=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())
