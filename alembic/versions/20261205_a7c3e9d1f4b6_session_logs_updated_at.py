"""session_logs: index (user_id, updated_at) for the FHIR export's pages (issue 19)

Revision ID: a7c3e9d1f4b6
Revises: b6e1d4f9a2c8
Create Date: 2026-12-04 14:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7c3e9d1f4b6"
down_revision: str | None = "b6e1d4f9a2c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_session_logs_user_id_updated_at", "session_logs", ["user_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_session_logs_user_id_updated_at", table_name="session_logs")
