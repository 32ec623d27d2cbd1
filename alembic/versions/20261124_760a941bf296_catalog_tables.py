"""catalog tables

Revision ID: 760a941bf296
Revises:
Create Date: 2026-11-24 23:03:07.583600
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "760a941bf296"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment")),
        sa.UniqueConstraint("slug", name=op.f("uq_equipment_slug")),
    )
    op.create_table(
        "exercises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("position", sa.String(length=120), nullable=False),
        sa.Column("sets", sa.Integer(), nullable=False),
        sa.Column("reps_min", sa.Integer(), nullable=True),
        sa.Column("reps_max", sa.Integer(), nullable=True),
        sa.Column("hold_seconds", sa.Integer(), nullable=True),
        sa.Column("hold_seconds_max", sa.Integer(), nullable=True),
        sa.Column("minutes_min", sa.Integer(), nullable=True),
        sa.Column("minutes_max", sa.Integer(), nullable=True),
        sa.Column("per_side", sa.Boolean(), nullable=False),
        sa.Column("frequency", sa.String(length=120), nullable=True),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("easier_slug", sa.String(length=64), nullable=True),
        sa.Column("harder_slug", sa.String(length=64), nullable=True),
        sa.Column("safety_notes", sa.JSON(), nullable=False),
        sa.Column("media", sa.JSON(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seed_checksum", sa.String(length=64), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('warmup', 'strength', 'stretch')",
            name=op.f("ck_exercises_category_known"),
        ),
        sa.CheckConstraint(
            "difficulty BETWEEN 1 AND 5", name=op.f("ck_exercises_difficulty_range")
        ),
        sa.CheckConstraint(
            "hold_seconds IS NULL OR hold_seconds_max IS NULL OR hold_seconds <= hold_seconds_max",
            name=op.f("ck_exercises_hold_order"),
        ),
        sa.CheckConstraint(
            "reps_min IS NULL OR reps_max IS NULL OR reps_min <= reps_max",
            name=op.f("ck_exercises_reps_order"),
        ),
        sa.CheckConstraint("sets BETWEEN 1 AND 10", name=op.f("ck_exercises_sets_range")),
        sa.ForeignKeyConstraint(
            ["easier_slug"],
            ["exercises.slug"],
            name=op.f("fk_exercises_easier_slug_exercises"),
            onupdate="CASCADE",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["harder_slug"],
            ["exercises.slug"],
            name=op.f("fk_exercises_harder_slug_exercises"),
            onupdate="CASCADE",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercises")),
        sa.UniqueConstraint("slug", name=op.f("uq_exercises_slug")),
    )
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exercises_archived"), ["archived"], unique=False)
        batch_op.create_index(batch_op.f("ix_exercises_category"), ["category"], unique=False)

    op.create_table(
        "muscles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("location", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_muscles")),
        sa.UniqueConstraint("slug", name=op.f("uq_muscles_slug")),
    )
    op.create_table(
        "exercise_equipment",
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("optional", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_exercise_equipment_equipment_id_equipment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_equipment_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("exercise_id", "equipment_id", name=op.f("pk_exercise_equipment")),
    )
    with op.batch_alter_table("exercise_equipment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exercise_equipment_equipment_id"),
            ["equipment_id"],
            unique=False,
        )

    op.create_table(
        "exercise_muscles",
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("muscle_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "role IN ('primary', 'secondary')",
            name=op.f("ck_exercise_muscles_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_muscles_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["muscle_id"],
            ["muscles.id"],
            name=op.f("fk_exercise_muscles_muscle_id_muscles"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("exercise_id", "muscle_id", name=op.f("pk_exercise_muscles")),
    )
    with op.batch_alter_table("exercise_muscles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exercise_muscles_muscle_id"), ["muscle_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("exercise_muscles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_muscles_muscle_id"))

    op.drop_table("exercise_muscles")
    with op.batch_alter_table("exercise_equipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercise_equipment_equipment_id"))

    op.drop_table("exercise_equipment")
    op.drop_table("muscles")
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exercises_category"))
        batch_op.drop_index(batch_op.f("ix_exercises_archived"))

    op.drop_table("exercises")
    op.drop_table("equipment")
