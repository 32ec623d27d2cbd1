"""Hashing runs in low-priority threads of its own; tokens are random and hashed."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from api.security import (
    DEVICE_TOKEN_PREFIX,
    HASH_THREAD_NICENESS,
    HashPool,
    new_opaque_token,
    token_digest,
)


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling only")
def test_hash_pool_threads_yield_to_request_handling() -> None:
    pool = HashPool(workers=1)

    def where() -> tuple[int, int, str]:
        tid = threading.get_native_id()
        return (
            os.getpriority(os.PRIO_PROCESS, tid),
            os.sched_getscheduler(0),
            threading.current_thread().name,
        )

    try:
        niceness, policy, name = asyncio.run(pool.run(where))
    finally:
        pool.shutdown()
    assert niceness == HASH_THREAD_NICENESS
    assert policy == os.SCHED_IDLE
    assert name.startswith("password-hash")
    # The caller's own thread is untouched.
    assert os.sched_getscheduler(0) != os.SCHED_IDLE


def test_opaque_tokens_are_random_and_digested() -> None:
    tokens = {new_opaque_token(DEVICE_TOKEN_PREFIX) for _ in range(100)}
    assert len(tokens) == 100
    assert all(t.startswith(DEVICE_TOKEN_PREFIX) and len(t) > 40 for t in tokens)
    token = tokens.pop()
    assert token_digest(token) == token_digest(token)
    assert len(token_digest(token)) == 64
    assert token not in token_digest(token)


def test_the_hash_pool_works_again_after_a_shutdown() -> None:
    pool = HashPool(workers=1)
    pool.shutdown()
    assert asyncio.run(pool.run(lambda: 42)) == 42
    pool.shutdown()
