"""Screening answers (docs/clinical.md, "Screening before the first session").

Every `PUT` adds a row: the latest is in force, the earlier ones are the person's
history (their export and their clinicians' summary show them all).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow


class Screening(SQLModel, table=True):
    __tablename__ = "screenings"
    __table_args__ = (
        Index("ix_screenings_user_id_created_at", "user_id", "created_at"),
        CheckConstraint(
            "(pregnant AND pregnancy_weeks BETWEEN 1 AND 42) "
            "OR (NOT pregnant AND pregnancy_weeks IS NULL)",
            name="pregnancy_weeks_known",
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    osteoporosis: bool
    pregnant: bool
    # Weeks on the day of the answer; the rules count on from there.
    pregnancy_weeks: int | None = None
    spinal_surgery_last_12_months: bool
    stenosis_or_spondylolisthesis: bool
    # {over_50_new_pain, immunosuppressed, long_term_steroids, iv_drug_use, cancer_history}
    risk_factors: dict[str, bool] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
