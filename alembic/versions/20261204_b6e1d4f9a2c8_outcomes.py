"""outcomes: the outcome measures a person answered (issue 19)

Revision ID: b6e1d4f9a2c8
Revises: d4b8f0a6c215
Create Date: 2026-12-04 03:08:30.476112
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import api.db

revision: str = "b6e1d4f9a2c8"
down_revision: str | None = "d4b8f0a6c215"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


OLD_KINDS = "kind IN ('see_doctor', 'urgent_care', 'inactive', 'screening')"
NEW_KINDS = "kind IN ('see_doctor', 'urgent_care', 'inactive', 'screening', 'outcome')"


def _alert_kinds(check: str) -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_kind_known"), type_="check")
        batch_op.create_check_constraint("kind_known", check)


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_offset_minutes", sa.Integer(), nullable=True),
        sa.Column("received_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("subscores", sa.JSON(), nullable=False),
        sa.Column("band", sa.String(length=32), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outcomes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outcomes_user_id_instrument_recorded_at",
            ["user_id", "instrument", "recorded_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_outcomes_user_id_received_at", ["user_id", "received_at"], unique=False
        )
    # A high-risk STarT Back result alerts linked clinicians.
    _alert_kinds(NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE kind = 'outcome'")
    _alert_kinds(OLD_KINDS)
    with op.batch_alter_table("outcomes", schema=None) as batch_op:
        batch_op.drop_index("ix_outcomes_user_id_received_at")
        batch_op.drop_index("ix_outcomes_user_id_instrument_recorded_at")

    op.drop_table("outcomes")
