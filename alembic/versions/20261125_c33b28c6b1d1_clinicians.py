"""clinicians

Revision ID: c33b28c6b1d1
Revises: adb3bc67e294
Create Date: 2026-11-25 00:15:06.896246
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

import api.db

revision: str = "c33b28c6b1d1"
down_revision: str | None = "adb3bc67e294"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('see_doctor', 'urgent_care', 'inactive')", name=op.f("ck_alerts_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["users.id"],
            name=op.f("fk_alerts_clinician_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_alerts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "clinician_id",
            "user_id",
            "kind",
            "source",
            name="uq_alerts_clinician_id_user_id_kind_source",
        ),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_alerts_clinician_id_created_at", ["clinician_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_alerts_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "clinician_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["users.id"],
            name=op.f("fk_clinician_actions_clinician_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_clinician_actions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician_actions")),
    )
    with op.batch_alter_table("clinician_actions", schema=None) as batch_op:
        batch_op.create_index("ix_clinician_actions_user_id_at", ["user_id", "at"], unique=False)

    op.create_table(
        "clinician_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["users.id"],
            name=op.f("fk_clinician_invitations_clinician_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician_invitations")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_clinician_invitations_code_hash")),
    )
    op.create_table(
        "clinician_links",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("clinician_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["users.id"],
            name=op.f("fk_clinician_links_clinician_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_clinician_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician_links")),
        sa.UniqueConstraint(
            "clinician_id", "user_id", name="uq_clinician_links_clinician_id_user_id"
        ),
    )
    with op.batch_alter_table("clinician_links", schema=None) as batch_op:
        batch_op.create_index(
            "ix_clinician_links_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "clinician_plans",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("cleared", sa.JSON(), nullable=True),
        sa.Column("start_dates", sa.JSON(), nullable=False),
        sa.Column("caps", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_clinician_plans_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_clinician_plans_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_clinician_plans")),
    )


def downgrade() -> None:
    op.drop_table("clinician_plans")
    with op.batch_alter_table("clinician_links", schema=None) as batch_op:
        batch_op.drop_index("ix_clinician_links_user_id_created_at")

    op.drop_table("clinician_links")
    op.drop_table("clinician_invitations")
    with op.batch_alter_table("clinician_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_clinician_actions_user_id_at")

    op.drop_table("clinician_actions")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_user_id_created_at")
        batch_op.drop_index("ix_alerts_clinician_id_created_at")

    op.drop_table("alerts")
