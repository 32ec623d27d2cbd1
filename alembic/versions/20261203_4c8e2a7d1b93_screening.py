"""screening: answers per person, cautions on exercises, screening alerts

Revision ID: 4c8e2a7d1b93
Revises: 9d1e6b2f4a70
Create Date: 2026-12-03 09:29:51.965723

Existing exercises start with no cautions: `backstrong seed` gives the ten article
entries theirs (also to an entry an admin edited, when no admin has set its cautions).
People who registered before this have no screen; they are asked for one before their
next session.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may render its types)
from alembic import op

import api.db

revision: str = "4c8e2a7d1b93"
down_revision: str | None = "9d1e6b2f4a70"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "screenings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("osteoporosis", sa.Boolean(), nullable=False),
        sa.Column("pregnant", sa.Boolean(), nullable=False),
        sa.Column("pregnancy_weeks", sa.Integer(), nullable=True),
        sa.Column("spinal_surgery_last_12_months", sa.Boolean(), nullable=False),
        sa.Column("stenosis_or_spondylolisthesis", sa.Boolean(), nullable=False),
        sa.Column("risk_factors", sa.JSON(), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(pregnant AND pregnancy_weeks BETWEEN 1 AND 42) OR (NOT pregnant AND pregnancy_weeks IS NULL)",
            name=op.f("ck_screenings_pregnancy_weeks_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_screenings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screenings")),
    )
    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_screenings_user_id_created_at", ["user_id", "created_at"], unique=False
        )

    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cautions", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("caution_limits", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.alter_column("cautions", server_default=None)
        batch_op.alter_column("caution_limits", server_default=None)
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_kind_known"), type_="check")
        batch_op.create_check_constraint(
            "kind_known", "kind IN ('see_doctor', 'urgent_care', 'inactive', 'screening')"
        )
    with op.batch_alter_table("clinician_plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cleared_under", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("clinician_plans", schema=None) as batch_op:
        batch_op.alter_column("cleared_under", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("clinician_plans", schema=None) as batch_op:
        batch_op.drop_column("cleared_under")
    op.execute("DELETE FROM alerts WHERE kind = 'screening'")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alerts_kind_known"), type_="check")
        batch_op.create_check_constraint(
            "kind_known", "kind IN ('see_doctor', 'urgent_care', 'inactive')"
        )
    with op.batch_alter_table("exercises", schema=None) as batch_op:
        batch_op.drop_column("caution_limits")
        batch_op.drop_column("cautions")

    with op.batch_alter_table("screenings", schema=None) as batch_op:
        batch_op.drop_index("ix_screenings_user_id_created_at")

    op.drop_table("screenings")
