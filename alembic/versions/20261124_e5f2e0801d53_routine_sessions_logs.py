"""routine sessions logs

Revision ID: e5f2e0801d53
Revises: bd3fe9145a3e
Create Date: 2026-11-24 23:51:50.091497
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

import api.db

revision: str = "e5f2e0801d53"
down_revision: str | None = "bd3fe9145a3e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dose_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("decision_key", sa.String(length=300), nullable=False),
        sa.Column("rule_id", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("exercise_slug", sa.String(length=64), nullable=False),
        sa.Column("to_exercise_slug", sa.String(length=64), nullable=False),
        sa.Column("at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_dose", sa.JSON(), nullable=False),
        sa.Column("to_dose", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dose_changes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dose_changes")),
        sa.UniqueConstraint("user_id", "decision_key", name="uq_dose_changes_user_id_decision_key"),
    )
    with op.batch_alter_table("dose_changes", schema=None) as batch_op:
        batch_op.create_index("ix_dose_changes_user_id_at", ["user_id", "at"], unique=False)

    op.create_table(
        "routine_items",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("exercise_slug", sa.String(length=64), nullable=False),
        sa.Column("sets", sa.Integer(), nullable=False),
        sa.Column("reps", sa.Integer(), nullable=True),
        sa.Column("hold_seconds", sa.Integer(), nullable=True),
        sa.Column("per_side", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_routine_items_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "exercise_slug", name=op.f("pk_routine_items")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("equipment", sa.JSON(), nullable=False),
        sa.Column("focus", sa.JSON(), nullable=False),
        sa.Column("exclude", sa.JSON(), nullable=False),
        sa.Column("advice_status", sa.String(length=16), nullable=False),
        sa.Column("advice", sa.JSON(), nullable=False),
        sa.Column("dropped", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("estimated_minutes", sa.Float(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'completed')", name=op.f("ck_sessions_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sessions_user_id_created_at", ["user_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_sessions_user_id_updated_at", ["user_id", "updated_at"], unique=False
        )

    op.create_table(
        "session_logs",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("pain_after", sa.Integer(), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("received_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_session_logs_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_session_logs_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_logs")),
    )
    with op.batch_alter_table("session_logs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_session_logs_user_id_started_at", ["user_id", "started_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("session_logs", schema=None) as batch_op:
        batch_op.drop_index("ix_session_logs_user_id_started_at")

    op.drop_table("session_logs")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_user_id_updated_at")
        batch_op.drop_index("ix_sessions_user_id_created_at")

    op.drop_table("sessions")
    op.drop_table("routine_items")
    with op.batch_alter_table("dose_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_dose_changes_user_id_at")

    op.drop_table("dose_changes")
