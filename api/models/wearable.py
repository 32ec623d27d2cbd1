"""Wearable uploads (samples stored compactly) and idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


def _time(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class WearableUpload(SQLModel, table=True):
    __tablename__ = "wearable_uploads"
    __table_args__ = (
        # Uploads of one recording (same device_session_id) merge into one row; an
        # import's label (its source and record id) never meets an upload's own id.
        UniqueConstraint(
            "device_id",
            "source",
            "device_session_id",
            name="uq_wearable_uploads_device_id_source_device_session_id",
        ),
        Index("ix_wearable_uploads_user_id_started_at", "user_id", "started_at"),
        Index("ix_wearable_uploads_session_id", "session_id"),
        # A platform's record imported again, under any key or device, is the same row.
        UniqueConstraint(
            "user_id",
            "source",
            "platform_record_id",
            name="uq_wearable_uploads_user_id_source_platform_record_id",
        ),
        CheckConstraint("source IN ('upload', 'health_connect', 'healthkit')", name="source_known"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    device_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid(), ForeignKey("devices.id", ondelete="SET NULL"), nullable=True),
    )
    device_session_id: str = Field(max_length=128)
    session_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid(), ForeignKey("sessions.id", ondelete="SET NULL"), nullable=True),
    )
    started_at: datetime = Field(sa_column=_time())
    ended_at: datetime = Field(sa_column=_time())
    energy_kcal: float | None = None
    device_model: str | None = Field(default=None, max_length=120)
    software_version: str | None = Field(default=None, max_length=64)
    # Heart rate as zlib-compressed (second offset delta, bpm) arrays: about 1 byte per
    # sample for steady 1 Hz data (see api/services/wearable.py).
    heart_rate: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sample_count: int = 0
    reps: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Imports (issue 20): where it came from, the platform's record id, its exercise type
    # and time-zone offsets, its segments as recorded (each with the catalog exercise it
    # maps to, or none), and why it was not matched to a session when it was not.
    source: str = Field(
        default="upload", sa_column=Column(String(16), nullable=False, server_default="upload")
    )
    platform_record_id: str | None = Field(default=None, max_length=128)
    exercise_type: str | None = Field(default=None, max_length=64)
    start_offset_minutes: int | None = None
    end_offset_minutes: int | None = None
    segments: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    unmatched_reason: str | None = Field(default=None, max_length=200)
    received_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class IdempotencyKey(SQLModel, table=True):
    """One device's Idempotency-Key: the request it stood for and the answer it got.

    In the database, so every API process sees the same keys.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)

    device_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    in_flight: bool = True
    response_status: int | None = None
    response_body: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    expires_at: datetime = Field(sa_column=_time())


class PersonIdempotencyKey(SQLModel, table=True):
    """A person's Idempotency-Key, for the imports their app sends with their own token
    (a device's keys are its own, in IdempotencyKey): the same columns, keyed by person."""

    __tablename__ = "person_idempotency_keys"
    __table_args__ = (Index("ix_person_idempotency_keys_expires_at", "expires_at"),)

    user_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    in_flight: bool = True
    response_status: int | None = None
    response_body: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    expires_at: datetime = Field(sa_column=_time())


class SegmentTypeMapping(SQLModel, table=True):
    """A platform's exercise segment type and the catalog exercise whose repetitions it
    counts (None: known, kept, no catalog exercise). Seeded from
    seed_data/health_platforms.yaml; admins edit it (PUT /v1/health-connect/segment-types/
    {segment_type}), and the seed keeps what they set."""

    __tablename__ = "segment_type_mappings"

    platform: str = Field(primary_key=True, max_length=16)
    segment_type: str = Field(primary_key=True, max_length=64)
    exercise_slug: str | None = Field(default=None, max_length=64)
    # False: as the seed file has it (a later seed may change it); True: an admin set it.
    edited: bool = False
    updated_by: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid(), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())
