"""Check-ins keep the UTC offset their time was sent with

Revision ID: a7c3e91d5b62
Revises: f2a9c1e7b350
Create Date: 2026-12-04

`recorded_at` is stored in UTC; the offset the app sent it with (the person's local time
then) was dropped. Issue 17 asks for it back: `recorded_offset` in every check-in shown.
Check-ins stored before keep none (null).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e91d5b62"
down_revision: str | None = "f2a9c1e7b350"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("checkins", sa.Column("recorded_offset_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("recorded_offset_minutes")
