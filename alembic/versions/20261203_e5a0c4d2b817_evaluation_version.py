"""Users: a version of what the rules read about each person

Revision ID: e5a0c4d2b817
Revises: 7b3f9c2e5a18
Create Date: 2026-12-03

Reads serve a cached evaluation while nothing it read has changed (issue 16). Every
transaction that writes one of a person's rule inputs (check-ins, logs, sessions, the
routine, the ledger, advice, screens, a clinician's plan, links and actions, thresholds)
adds one to this number first (api/changes.py), so a cached evaluation is
known to be current when the number it was made at is still the person's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5a0c4d2b817"
down_revision: str | None = "7b3f9c2e5a18"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("eval_version", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("eval_version")
