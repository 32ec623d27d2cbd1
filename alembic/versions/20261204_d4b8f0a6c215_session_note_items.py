"""Sessions keep their notes as items (kind, text, the exercise)

Revision ID: d4b8f0a6c215
Revises: a7c3e91d5b62
Create Date: 2026-12-04

A session's `notes` were sentences with exercise names in them; apps asked for items they
can lay out (issue 17). Sessions built before keep none (null): their sentences are shown
as items of kind `note`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4b8f0a6c215"
down_revision: str | None = "a7c3e91d5b62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("note_items", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("note_items")
