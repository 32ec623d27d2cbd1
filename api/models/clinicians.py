"""Clinicians and their patients: invitations, links, plans, alerts and an action log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, UniqueConstraint, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


def _fk(nullable: bool = False, ondelete: str = "CASCADE") -> Column[uuid.UUID]:
    return Column(Uuid(), ForeignKey("users.id", ondelete=ondelete), nullable=nullable)


def _time(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class ClinicianInvitation(SQLModel, table=True):
    __tablename__ = "clinician_invitations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clinician_id: uuid.UUID = Field(sa_column=_fk())
    # SHA-256 of the code: a leaked table does not hand out links.
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    expires_at: datetime = Field(sa_column=_time())
    used_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class ClinicianLink(SQLModel, table=True):
    """A patient (user_id) has linked this clinician."""

    __tablename__ = "clinician_links"
    __table_args__ = (
        UniqueConstraint("clinician_id", "user_id", name="uq_clinician_links_clinician_id_user_id"),
        Index("ix_clinician_links_user_id_created_at", "user_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clinician_id: uuid.UUID = Field(sa_column=_fk())
    user_id: uuid.UUID = Field(sa_column=_fk())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class ClinicianPlan(SQLModel, table=True):
    """What linked clinicians decided for a patient: cleared exercises, start dates, caps."""

    __tablename__ = "clinician_plans"

    user_id: uuid.UUID = Field(
        sa_column=Column(
            Uuid(), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    # None: every exercise is cleared. A list: only these are ever built.
    cleared: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    start_dates: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    caps: dict[str, dict[str, int]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    # What each cleared exercise was cleared despite (screening cautions and answers in
    # force when it was cleared): a clearance lifts those, never a later one.
    cleared_under: dict[str, list[str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    updated_by: uuid.UUID | None = Field(default=None, sa_column=_fk(True, "SET NULL"))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_time())


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('see_doctor', 'urgent_care', 'inactive', 'screening', 'outcome')",
            name="kind_known",
        ),
        # Each event alerts each clinician once.
        UniqueConstraint(
            "clinician_id",
            "user_id",
            "kind",
            "source",
            name="uq_alerts_clinician_id_user_id_kind_source",
        ),
        Index("ix_alerts_clinician_id_created_at", "clinician_id", "created_at"),
        Index("ix_alerts_user_id_created_at", "user_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    clinician_id: uuid.UUID = Field(sa_column=_fk())
    user_id: uuid.UUID = Field(sa_column=_fk())
    kind: str = Field(max_length=16)
    source: str = Field(max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_time())
    acknowledged_at: datetime | None = Field(default=None, sa_column=_time(nullable=True))


class ClinicianAction(SQLModel, table=True):
    """Who did what to a patient's plan, when: shown to the patient in their export."""

    __tablename__ = "clinician_actions"
    __table_args__ = (
        Index("ix_clinician_actions_user_id_at", "user_id", "at"),
        # The latest red-flag resolution by a clinician, one seek (every evaluation asks).
        Index("ix_clinician_actions_user_id_action_at", "user_id", "action", "at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_fk())
    # Kept (as null) when the clinician's account is erased: the patient keeps the record.
    clinician_id: uuid.UUID | None = Field(default=None, sa_column=_fk(True, "SET NULL"))
    action: str = Field(max_length=40)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(sa_column=_time())
