"""Rule service: the latest clinician resolution is one index seek

Revision ID: 7b3f9c2e5a18
Revises: 4c8e2a7d1b93
Create Date: 2026-12-03

Every evaluation asks for a patient's latest red-flag resolution by a clinician. On
(user_id, at) PostgreSQL walked back through every later action of the patient (plan
edits, clearances) filtering on the action; with the action in the index it is one seek.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7b3f9c2e5a18"
down_revision: str | None = "4c8e2a7d1b93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_clinician_actions_user_id_action_at",
        "clinician_actions",
        ["user_id", "action", "at"],
    )


def downgrade() -> None:
    op.drop_index("ix_clinician_actions_user_id_action_at", table_name="clinician_actions")
