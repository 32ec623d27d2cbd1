"""Account tables: users, refresh tokens, wearable devices, failed-login records, the
outbox of messages to email addresses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, ForeignKey, Index, Uuid
from sqlmodel import Field, SQLModel

from api.db import UTCDateTime, utcnow

ROLES = ("user", "clinician", "admin")
DEFAULT_SESSION_MINUTES = 20


def _user_fk() -> Column[uuid.UUID]:
    return Column(Uuid(), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


def _created() -> Column[datetime]:
    return Column(UTCDateTime(), nullable=False)


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'clinician', 'admin')", name="role_known"),
        CheckConstraint("session_minutes BETWEEN 5 AND 180", name="session_minutes_range"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Stored lower-cased: addresses are compared case-insensitively.
    email: str = Field(max_length=254, unique=True)
    password_hash: str = Field(max_length=255)
    display_name: str | None = Field(default=None, max_length=80)
    role: str = Field(default="user", max_length=16)
    equipment: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    session_minutes: int = DEFAULT_SESSION_MINUTES
    timezone: str = Field(default="UTC", max_length=64)
    # For age-predicted heart-rate zones only; optional.
    birth_year: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    # One more with every transaction that writes what the rules read about this person
    # (api/changes.py): a cached evaluation made at this number is current.
    eval_version: int = Field(
        default=0, sa_column=Column(BigInteger, nullable=False, server_default="0")
    )


class RefreshToken(SQLModel, table=True):
    """One refresh token; rotation links tokens into a family for theft detection."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_user_id_created_at", "user_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_user_fk())
    family_id: uuid.UUID = Field(index=True)
    # SHA-256 of the token: it is 256 random bits, so a slow hash adds nothing.
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    expires_at: datetime = Field(sa_column=_created())
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # The client address it was issued to: where the account has signed in from, which
    # the sign-in throttle spares (api/services/accounts.py password_gate).
    address: str | None = Field(default=None, max_length=64)


class Device(SQLModel, table=True):
    """A wearable allowed to upload sessions for its owner, and nothing else."""

    __tablename__ = "devices"
    __table_args__ = (
        Index("ix_devices_user_id_created_at", "user_id", "created_at"),
        Index("ix_devices_user_id_updated_at", "user_id", "updated_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(sa_column=_user_fk())
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    # The first characters of the token, so people can tell their devices apart.
    token_prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # Moves with anything its list shows (registered, last used), for `?since=`.
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_created())


class LoginFailure(SQLModel, table=True):
    """A failed login, keyed by account and by client address.

    Kept in the database so every API process sees the same count.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    failed_at: datetime = Field(sa_column=_created())


class OutboxMessage(SQLModel, table=True):
    """A message for an email address, waiting for a mailer (`backstrong outbox`).

    Registration queues one whether or not the address already had an account, so its
    answer tells nobody which addresses are registered; the address's owner learns it
    from the message instead.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_sent_at_created_at", "sent_at", "created_at"),
        Index("ix_outbox_recipient", "recipient"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    recipient: str = Field(max_length=254)
    kind: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_created())
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
