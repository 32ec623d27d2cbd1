"""session_logs: the import whose segment reps filled an unlogged session's log (issue 20)

Revision ID: d8f3b1a6c2e4
Revises: c5e2a8b7d913
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d8f3b1a6c2e4"
down_revision: str | None = "c5e2a8b7d913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("session_logs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("import_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("session_logs", schema=None) as batch_op:
        batch_op.drop_column("import_id")
