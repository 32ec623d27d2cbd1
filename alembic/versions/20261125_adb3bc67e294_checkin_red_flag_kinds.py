"""checkin red flag kinds

Revision ID: adb3bc67e294
Revises: 44c7a215a4de
Create Date: 2026-11-25 00:04:50.781460
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

revision: str = "adb3bc67e294"
down_revision: str | None = "44c7a215a4de"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


SERIOUS_CAUSE = (
    "fever_or_unwell",
    "unexplained_weight_loss",
    "cancer_history",
    "significant_trauma",
)


def upgrade() -> None:
    # New columns start false, then existing rows are filled from their stored answers.
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("serious_cause", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("night_pain", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    checkins = sa.table(
        "checkins",
        sa.column("id", sa.Uuid()),
        sa.column("red_flags", sa.JSON()),
        sa.column("serious_cause", sa.Boolean()),
        sa.column("night_pain", sa.Boolean()),
    )
    conn = op.get_bind()
    for ident, flags in conn.execute(sa.select(checkins.c.id, checkins.c.red_flags)).all():
        flags = flags or {}
        serious = any(flags.get(name) for name in SERIOUS_CAUSE)
        night = bool(flags.get("night_pain"))
        if serious or night:
            conn.execute(
                checkins.update()
                .where(checkins.c.id == ident)
                .values(serious_cause=serious, night_pain=night)
            )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.alter_column("serious_cause", server_default=None)
        batch_op.alter_column("night_pain", server_default=None)
        batch_op.create_index(
            "ix_checkins_user_id_night_pain_recorded_at",
            ["user_id", "night_pain", "recorded_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_checkins_user_id_serious_cause_recorded_at",
            ["user_id", "serious_cause", "recorded_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_user_id_serious_cause_recorded_at")
        batch_op.drop_index("ix_checkins_user_id_night_pain_recorded_at")
        batch_op.drop_column("night_pain")
        batch_op.drop_column("serious_cause")
