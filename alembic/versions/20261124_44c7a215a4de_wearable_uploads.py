"""wearable uploads

Revision ID: 44c7a215a4de
Revises: e5f2e0801d53
Create Date: 2026-11-24 23:59:03.083216
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

import api.db

revision: str = "44c7a215a4de"
down_revision: str | None = "e5f2e0801d53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("in_flight", sa.Boolean(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_idempotency_keys_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "key", name=op.f("pk_idempotency_keys")),
    )
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_idempotency_keys_expires_at", ["expires_at"], unique=False)

    op.create_table(
        "wearable_uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("device_session_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("energy_kcal", sa.Float(), nullable=True),
        sa.Column("device_model", sa.String(length=120), nullable=True),
        sa.Column("software_version", sa.String(length=64), nullable=True),
        sa.Column("heart_rate", sa.LargeBinary(), nullable=False),
        sa.Column("sample_count", sa.Integer(), nullable=False),
        sa.Column("reps", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("received_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_wearable_uploads_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_wearable_uploads_session_id_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_wearable_uploads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wearable_uploads")),
        sa.UniqueConstraint(
            "device_id", "device_session_id", name="uq_wearable_uploads_device_id_device_session_id"
        ),
    )
    with op.batch_alter_table("wearable_uploads", schema=None) as batch_op:
        batch_op.create_index("ix_wearable_uploads_session_id", ["session_id"], unique=False)
        batch_op.create_index(
            "ix_wearable_uploads_user_id_started_at", ["user_id", "started_at"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("birth_year")

    with op.batch_alter_table("wearable_uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_wearable_uploads_user_id_started_at")
        batch_op.drop_index("ix_wearable_uploads_session_id")

    op.drop_table("wearable_uploads")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_idempotency_keys_expires_at")

    op.drop_table("idempotency_keys")
