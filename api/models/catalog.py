"""Catalog tables: exercises, muscles, equipment and the links between them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, String, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow

CATEGORIES = ("warmup", "strength", "stretch")
MUSCLE_ROLES = ("primary", "secondary")
SLUG_MAX = 64


class Muscle(SQLModel, table=True):
    __tablename__ = "muscles"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=SLUG_MAX, unique=True)
    name: str = Field(max_length=120)
    # Where it is, in words a person without anatomy training understands.
    location: str = Field(max_length=255)


class Equipment(SQLModel, table=True):
    __tablename__ = "equipment"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=SLUG_MAX, unique=True)
    name: str = Field(max_length=120)
    description: str = Field(default="", max_length=255)


class Exercise(SQLModel, table=True):
    __tablename__ = "exercises"
    __table_args__ = (
        CheckConstraint("category IN ('warmup', 'strength', 'stretch')", name="category_known"),
        CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty_range"),
        CheckConstraint("sets BETWEEN 1 AND 10", name="sets_range"),
        CheckConstraint(
            "reps_min IS NULL OR reps_max IS NULL OR reps_min <= reps_max", name="reps_order"
        ),
        CheckConstraint(
            "hold_seconds IS NULL OR hold_seconds_max IS NULL OR hold_seconds <= hold_seconds_max",
            name="hold_order",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=SLUG_MAX, unique=True)
    name: str = Field(max_length=120)
    category: str = Field(max_length=16, index=True)
    summary: str = Field(default="", max_length=1000)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    steps: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    position: str = Field(max_length=120)
    # Dose, as the catalog prescribes it; people's own doses live elsewhere.
    sets: int = Field(default=1)
    reps_min: int | None = None
    reps_max: int | None = None
    hold_seconds: int | None = None
    hold_seconds_max: int | None = None
    minutes_min: int | None = None
    minutes_max: int | None = None
    per_side: bool = False
    frequency: str | None = Field(default=None, max_length=120)
    difficulty: int
    easier_slug: str | None = Field(
        default=None,
        sa_column=Column(
            String(SLUG_MAX),
            ForeignKey("exercises.slug", onupdate="CASCADE", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    harder_slug: str | None = Field(
        default=None,
        sa_column=Column(
            String(SLUG_MAX),
            ForeignKey("exercises.slug", onupdate="CASCADE", ondelete="SET NULL"),
            nullable=True,
        ),
    )
    safety_notes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Screening (docs/clinical.md): the positions and movements a screen answer can rule out.
    cautions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Per caution, the dose this exercise is kept at where a screen limits that caution
    # rather than excluding it (pregnancy: short holds lying on the back).
    caution_limits: dict[str, dict[str, int]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    media: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    archived: bool = Field(default=False, index=True)
    version: int = Field(default=1)
    # Hash of the seed entry last applied, so `backstrong seed` can tell an
    # unchanged row from one an admin has edited since.
    seed_checksum: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ExerciseMuscle(SQLModel, table=True):
    __tablename__ = "exercise_muscles"
    __table_args__ = (CheckConstraint("role IN ('primary', 'secondary')", name="role_known"),)

    exercise_id: int = Field(
        sa_column=Column(
            ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    muscle_id: int = Field(
        sa_column=Column(
            ForeignKey("muscles.id", ondelete="RESTRICT"),
            primary_key=True,
            nullable=False,
            index=True,
        )
    )
    role: str = Field(max_length=16)


class ExerciseEquipment(SQLModel, table=True):
    __tablename__ = "exercise_equipment"

    exercise_id: int = Field(
        sa_column=Column(
            ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    equipment_id: int = Field(
        sa_column=Column(
            ForeignKey("equipment.id", ondelete="RESTRICT"),
            primary_key=True,
            nullable=False,
            index=True,
        )
    )
    # Optional equipment helps but is not needed (a chair to sit on, a mat).
    optional: bool = False


class CatalogState(SQLModel, table=True):
    """One row whose version rises with every catalog change, in the same transaction.

    Every API process compares it with what it has cached, so an edit shows at
    once everywhere without any process-to-process messaging.
    """

    __tablename__ = "catalog_state"

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=1)


class ExerciseRevision(SQLModel, table=True):
    """Who changed an exercise, when, and what it looked like before and after."""

    __tablename__ = "exercise_revisions"
    __table_args__ = (
        CheckConstraint(
            "action IN ('create', 'update', 'archive', 'restore')", name="action_known"
        ),
        Index("ix_exercise_revisions_exercise_id_created_at", "exercise_id", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    exercise_id: int = Field(
        sa_column=Column(ForeignKey("exercises.id", ondelete="CASCADE"), nullable=False)
    )
    version: int
    action: str = Field(max_length=16)
    source: str = Field(max_length=16, description="api or seed")
    # Kept when the admin's account is erased, but no longer pointing at them.
    actor_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(Uuid(), ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    )
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
