"""Outbox: messages waiting for a mailer

Revision ID: b6d3f18a2c45
Revises: e5a0c4d2b817
Create Date: 2026-12-03

Registration answers the same for a new and a registered address (issue 18); what
differs goes by email instead, through this table, which a mailer drains
(`backstrong outbox`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "b6d3f18a2c45"
down_revision: str | None = "e5a0c4d2b817"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_sent_at_created_at", "outbox", ["sent_at", "created_at"])
    op.create_index("ix_outbox_recipient", "outbox", ["recipient"])


def downgrade() -> None:
    op.drop_index("ix_outbox_recipient", table_name="outbox")
    op.drop_index("ix_outbox_sent_at_created_at", table_name="outbox")
    op.drop_table("outbox")
