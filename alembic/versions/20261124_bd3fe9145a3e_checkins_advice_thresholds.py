"""checkins advice thresholds

Revision ID: bd3fe9145a3e
Revises: f286557ae815
Create Date: 2026-11-24 23:44:51.003520
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

import api.db

revision: str = "bd3fe9145a3e"
down_revision: str | None = "f286557ae815"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advice",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("exercises", sa.JSON(), nullable=False),
        sa.Column("ruleset_version", sa.String(length=16), nullable=False),
        sa.Column("evaluated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_advice_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advice")),
    )
    with op.batch_alter_table("advice", schema=None) as batch_op:
        batch_op.create_index(
            "ix_advice_user_id_evaluated_at", ["user_id", "evaluated_at"], unique=False
        )

    op.create_table(
        "checkins",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("pain", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("exercise_slug", sa.String(length=64), nullable=True),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("radiating_below_knee", sa.Boolean(), nullable=True),
        sa.Column("red_flags", sa.JSON(), nullable=False),
        sa.Column("cauda_equina", sa.Boolean(), nullable=False),
        sa.Column("red_flags_resolved", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "phase IN ('daily', 'before', 'during', 'after', 'next_morning')",
            name=op.f("ck_checkins_phase_known"),
        ),
        sa.CheckConstraint("pain BETWEEN 0 AND 10", name=op.f("ck_checkins_pain_range")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_checkins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkins_user_id_cauda_equina_recorded_at",
            ["user_id", "cauda_equina", "recorded_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_checkins_user_id_received_at", ["user_id", "received_at"], unique=False
        )
        batch_op.create_index(
            "ix_checkins_user_id_recorded_at", ["user_id", "recorded_at"], unique=False
        )
        batch_op.create_index(
            "ix_checkins_user_id_red_flags_resolved_recorded_at",
            ["user_id", "red_flags_resolved", "recorded_at"],
            unique=False,
        )

    op.create_table(
        "user_thresholds",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_user_thresholds_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_thresholds_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_thresholds")),
    )


def downgrade() -> None:
    op.drop_table("user_thresholds")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_user_id_red_flags_resolved_recorded_at")
        batch_op.drop_index("ix_checkins_user_id_recorded_at")
        batch_op.drop_index("ix_checkins_user_id_received_at")
        batch_op.drop_index("ix_checkins_user_id_cauda_equina_recorded_at")

    op.drop_table("checkins")
    with op.batch_alter_table("advice", schema=None) as batch_op:
        batch_op.drop_index("ix_advice_user_id_evaluated_at")

    op.drop_table("advice")
