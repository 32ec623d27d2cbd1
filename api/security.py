"""Password hashing, access tokens (JWT) and opaque random tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api.config import Settings

# One algorithm, fixed: a token cannot choose how it is verified ("alg": "none" and
# key-confusion attacks are refused by PyJWT when the list is explicit).
JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"
REFRESH_TOKEN_PREFIX = "bsr_"
DEVICE_TOKEN_PREFIX = "bsd_"
# Shown to people so they can tell their devices apart; far too short to guess from.
DISPLAY_PREFIX_LENGTH = 12


class InvalidToken(Exception):
    """The access token is malformed, forged, expired or of the wrong kind."""


def password_hasher(settings: Settings) -> PasswordHash:
    return PasswordHash(
        (
            Argon2Hasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
        )
    )


@dataclass(frozen=True)
class Passwords:
    """Hashing with a decoy, so unknown emails take as long as wrong passwords."""

    hasher: PasswordHash
    decoy_hash: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        hasher = password_hasher(settings)
        return cls(hasher=hasher, decoy_hash=hasher.hash(secrets.token_urlsafe(16)))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password: str, password_hash: str | None) -> bool:
        if password_hash is None:
            self.hasher.verify(password, self.decoy_hash)
            return False
        return self.hasher.verify(password, password_hash)


def create_access_token(
    settings: Settings, *, user_id: uuid.UUID, role: str, now: datetime
) -> tuple[str, int]:
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id),
        "role": role,
        "type": ACCESS_TOKEN_TYPE,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise InvalidToken("not an access token")
    return claims


def new_opaque_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
