"""Password hashing, access tokens (JWT) and opaque random tokens."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api.config import Settings

T = TypeVar("T")

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


HASH_THREAD_NICENESS = 19


def _lower_this_threads_priority() -> None:
    # On Linux scheduling policy and niceness are per thread, and the threads
    # libargon2 starts for its lanes inherit them. SCHED_IDLE lets any request
    # handler preempt a hash at once (nice 19 alone still let hashes hold the CPU
    # for a scheduler slice: p99 of catalog reads during a sign-in flood went from
    # 2.3x to 1.35x). The cost: when the CPU is saturated by other requests,
    # sign-ins wait, which is the right way round for this API.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_THREAD_NICENESS)
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


class HashPool:
    """Where password hashing runs: a few low-priority threads of its own.

    Never the event loop (a hash costs ~0.1-0.2 s of CPU) and never the shared
    worker pool (a flood of sign-ins would hold every worker), so sign-in floods
    queue here while other requests keep their threads and most of the CPU.
    """

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._executor = self._start()
        self._lock = threading.Lock()

    def _start(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(
            max_workers=self._workers,
            thread_name_prefix="password-hash",
            initializer=_lower_this_threads_priority,
        )

    async def run(self, func: Callable[[], T]) -> T:
        with self._lock:
            # An app can be started again after a shutdown (tests, reloaders): restart.
            if self._executor._shutdown:  # noqa: SLF001
                self._executor = self._start()
            executor = self._executor
        return await asyncio.get_running_loop().run_in_executor(executor, func)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
