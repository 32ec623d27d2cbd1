"""Outcome measures a person answered (issue 19): the answers, and their score as scored."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class OutcomeRow(SQLModel, table=True):
    __tablename__ = "outcomes"
    __table_args__ = (
        Index("ix_outcomes_user_id_received_at", "user_id", "received_at"),
        # A person's first, latest and window of one instrument: one index range each.
        Index("ix_outcomes_user_id_instrument_recorded_at", "user_id", "instrument", "recorded_at"),
    )

    # Client-generated when offline, so retries never duplicate.
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    instrument: str = Field(max_length=32)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The UTC offset recorded_at came with, in minutes.
    recorded_offset_minutes: int | None = None
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    # As scored: item id -> value (PSFS: its activities); an item left out is absent.
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Kept as scored when stored: a later change of an instrument's file rescores nothing.
    score: float
    subscores: dict[str, float] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    band: str | None = Field(default=None, max_length=32)
    # Hash of the submitted body, so a retry can be told from a conflicting reuse of an id.
    body_hash: str = Field(max_length=64)
