"""wearable_uploads: what a Health Connect or HealthKit import keeps besides an upload (issue 20)

Revision ID: c5e2a8b7d913
Revises: a7c3e9d1f4b6
Create Date: 2026-12-04 14:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e2a8b7d913"
down_revision: str | None = "a7c3e9d1f4b6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("wearable_uploads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="upload")
        )
        batch_op.add_column(sa.Column("platform_record_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("exercise_type", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("start_offset_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("end_offset_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("segments", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("unmatched_reason", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(
            "uq_wearable_uploads_user_id_source_platform_record_id",
            ["user_id", "source", "platform_record_id"],
        )
        # An upload's own id and an import's label never meet: one recording per
        # (device, source, device_session_id).
        batch_op.drop_constraint("uq_wearable_uploads_device_id_device_session_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_wearable_uploads_device_id_source_device_session_id",
            ["device_id", "source", "device_session_id"],
        )
        batch_op.create_check_constraint(
            "source_known", "source IN ('upload', 'health_connect', 'healthkit')"
        )


def downgrade() -> None:
    with op.batch_alter_table("wearable_uploads", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_wearable_uploads_device_id_source_device_session_id", type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_wearable_uploads_device_id_device_session_id", ["device_id", "device_session_id"]
        )
        batch_op.drop_constraint(op.f("ck_wearable_uploads_source_known"), type_="check")
        batch_op.drop_constraint(
            "uq_wearable_uploads_user_id_source_platform_record_id", type_="unique"
        )
        for name in (
            "unmatched_reason",
            "segments",
            "end_offset_minutes",
            "start_offset_minutes",
            "exercise_type",
            "platform_record_id",
            "source",
        ):
            batch_op.drop_column(name)
