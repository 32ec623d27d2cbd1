"""catalog state and revisions

Revision ID: f286557ae815
Revises: 8492831bd652
Create Date: 2026-11-24 23:19:25.255105
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

import api.db

revision: str = "f286557ae815"
down_revision: str | None = "8492831bd652"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    catalog_state = op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    # The single row every catalog change bumps (see api.models.CatalogState).
    op.bulk_insert(catalog_state, [{"id": 1, "version": 1}])
    op.create_table(
        "exercise_revisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'archive', 'restore')",
            name=op.f("ck_exercise_revisions_action_known"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_exercise_revisions_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["exercise_id"],
            ["exercises.id"],
            name=op.f("fk_exercise_revisions_exercise_id_exercises"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exercise_revisions")),
    )
    with op.batch_alter_table("exercise_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exercise_revisions_exercise_id_created_at",
            ["exercise_id", "created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("exercise_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_exercise_revisions_exercise_id_created_at")

    op.drop_table("exercise_revisions")
    op.drop_table("catalog_state")
