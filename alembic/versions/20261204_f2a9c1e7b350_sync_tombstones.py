"""Delta sync: tombstones for removed items, and a change time on devices

Revision ID: f2a9c1e7b350
Revises: c4e7a2d9f013
Create Date: 2026-12-04

`?since=` on the lists an app caches (issue 17): a revoked device or an ended clinician
link leaves a tombstone, so an app that cached it learns to drop it; a device's
`updated_at` moves with what its list shows (registered, last used).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "f2a9c1e7b350"
down_revision: str | None = "c4e7a2d9f013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('device', 'clinician_link')", name=op.f("ck_tombstones_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tombstones_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tombstones")),
    )
    op.create_index(
        "ix_tombstones_user_id_kind_deleted_at", "tombstones", ["user_id", "kind", "deleted_at"]
    )
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE devices SET updated_at = COALESCE(last_used_at, created_at)")
    with op.batch_alter_table("devices") as batch:
        batch.alter_column(
            "updated_at", existing_type=api.db.UTCDateTime(timezone=True), nullable=False
        )
    op.create_index("ix_devices_user_id_updated_at", "devices", ["user_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_devices_user_id_updated_at", table_name="devices")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("updated_at")
    op.drop_index("ix_tombstones_user_id_kind_deleted_at", table_name="tombstones")
    op.drop_table("tombstones")
