"""ruleset v2: assessments, leg numbness, RF2/RF2b flag groups, advice freshness

Revision ID: 9d1e6b2f4a70
Revises: c33b28c6b1d1
Create Date: 2026-12-03 07:40:00

Past resolutions stay valid: a v1 check-in with `red_flags_resolved: true` said the
person had been seen by a professional, so it becomes an assessment by an
"unspecified" assessor at the moment it was recorded. It clears what it cleared before
(flags recorded before it) and nothing later.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

import api.db

revision: str = "9d1e6b2f4a70"
down_revision: str | None = "c33b28c6b1d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INFECTION_OR_FRACTURE = ("fever_or_unwell", "significant_trauma")
CANCER = ("unexplained_weight_loss", "cancer_history")
V1_ASSESSOR = "unspecified"


def upgrade() -> None:
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leg_numbness", sa.Boolean(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "infection_or_fracture", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("cancer_concern", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("night_pain_denied", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("assessed_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("assessed_at", api.db.UTCDateTime(timezone=True), nullable=True)
        )
    checkins = sa.table(
        "checkins",
        sa.column("id", sa.Uuid()),
        sa.column("red_flags", sa.JSON()),
        sa.column("serious_cause", sa.Boolean()),
        sa.column("infection_or_fracture", sa.Boolean()),
        sa.column("cancer_concern", sa.Boolean()),
        sa.column("night_pain_denied", sa.Boolean()),
        sa.column("red_flags_resolved", sa.Boolean()),
        sa.column("recorded_at", api.db.UTCDateTime(timezone=True)),
        sa.column("assessed_by", sa.String()),
        sa.column("assessed_at", api.db.UTCDateTime(timezone=True)),
    )
    conn = op.get_bind()
    # Every row with answers: the JSON cannot be filtered portably, and a night-pain "no"
    # can sit on any check-in.
    answered = conn.execute(sa.select(checkins.c.id, checkins.c.red_flags)).all()
    for ident, flags in answered:
        flags = flags or {}
        values = {
            "infection_or_fracture": any(flags.get(name) for name in INFECTION_OR_FRACTURE),
            "cancer_concern": any(flags.get(name) for name in CANCER),
            "night_pain_denied": flags.get("night_pain") is False,
        }
        if any(values.values()):
            conn.execute(checkins.update().where(checkins.c.id == ident).values(**values))
    conn.execute(
        checkins.update()
        .where(checkins.c.red_flags_resolved.is_(True))
        .values(assessed_by=V1_ASSESSOR, assessed_at=checkins.c.recorded_at)
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.alter_column("infection_or_fracture", server_default=None)
        batch_op.alter_column("cancer_concern", server_default=None)
        batch_op.alter_column("night_pain_denied", server_default=None)
        batch_op.create_index(
            "ix_checkins_user_id_infection_or_fracture_recorded_at",
            ["user_id", "infection_or_fracture", "recorded_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_checkins_user_id_cancer_concern_recorded_at",
            ["user_id", "cancer_concern", "recorded_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_checkins_user_id_assessed_at", ["user_id", "assessed_at"], unique=False
        )
        batch_op.create_index(
            "ix_checkins_user_id_night_pain_denied_recorded_at",
            ["user_id", "night_pain_denied", "recorded_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_checkins_user_id_phase_recorded_at",
            ["user_id", "phase", "recorded_at"],
            unique=False,
        )
    with op.batch_alter_table("advice", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_checkin_due_at", api.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("stale", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("advice", schema=None) as batch_op:
        batch_op.drop_column("stale")
        batch_op.drop_column("next_checkin_due_at")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_user_id_phase_recorded_at")
        batch_op.drop_index("ix_checkins_user_id_night_pain_denied_recorded_at")
        batch_op.drop_index("ix_checkins_user_id_assessed_at")
        batch_op.drop_index("ix_checkins_user_id_cancer_concern_recorded_at")
        batch_op.drop_index("ix_checkins_user_id_infection_or_fracture_recorded_at")
        batch_op.drop_column("assessed_at")
        batch_op.drop_column("assessed_by")
        batch_op.drop_column("night_pain_denied")
        batch_op.drop_column("cancer_concern")
        batch_op.drop_column("infection_or_fracture")
        batch_op.drop_column("leg_numbness")
