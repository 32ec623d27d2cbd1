"""person_idempotency_keys: a person's Idempotency-Keys, for imports sent with their own
token (issue 20)

Revision ID: e4a7c9d2b815
Revises: d8f3b1a6c2e4
Create Date: 2026-12-04 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "e4a7c9d2b815"
down_revision: str | None = "d8f3b1a6c2e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_idempotency_keys",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("in_flight", sa.Boolean(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.JSON(), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_person_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_person_idempotency_keys")),
    )
    with op.batch_alter_table("person_idempotency_keys", schema=None) as batch_op:
        batch_op.create_index("ix_person_idempotency_keys_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_idempotency_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_person_idempotency_keys_expires_at")
    op.drop_table("person_idempotency_keys")
