"""segment_type_mappings: platform segment types -> catalog exercises, admin-editable,
seeded from seed_data/health_platforms.yaml (issue 20)

Revision ID: f1b8d3e5a927
Revises: e4a7c9d2b815
Create Date: 2026-12-04 16:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "f1b8d3e5a927"
down_revision: str | None = "e4a7c9d2b815"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segment_type_mappings",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("segment_type", sa.String(length=64), nullable=False),
        sa.Column("exercise_slug", sa.String(length=64), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_segment_type_mappings_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("platform", "segment_type", name=op.f("pk_segment_type_mappings")),
    )


def downgrade() -> None:
    op.drop_table("segment_type_mappings")
