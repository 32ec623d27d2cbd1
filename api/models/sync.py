"""What delta sync needs beyond the rows themselves: a record of what was removed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime

TOMBSTONE_KINDS = ("device", "clinician_link")


class Tombstone(SQLModel, table=True):
    """An item gone from one of a person's lists (a revoked device, an ended clinician
    link), kept so that `?since=` tells an app that has it cached to drop it. Kept as
    long as the account (erased with it): a tombstone names only an id and a time."""

    __tablename__ = "tombstones"
    __table_args__ = (
        CheckConstraint("kind IN ('device', 'clinician_link')", name="kind_known"),
        Index("ix_tombstones_user_id_kind_deleted_at", "user_id", "kind", "deleted_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Whose list the item was in (the erasure of the account takes these along).
    user_id: uuid.UUID = Field(
        sa_column=Column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
    item_id: uuid.UUID
    deleted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
