"""Refresh tokens: the client address each was issued to

Revision ID: c4e7a2d9f013
Revises: b6d3f18a2c45
Create Date: 2026-12-03

The sign-in throttle spares the addresses an account has signed in from (issue 18,
finding 8): failures elsewhere slow the account down but cannot lock its owner out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4e7a2d9f013"
down_revision: str | None = "b6d3f18a2c45"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("refresh_tokens", sa.Column("address", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("address")
