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
    HashQueueFull,
    new_opaque_token,
    token_digest,
)


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling only")
def test_hash_pool_threads_yield_to_request_handling_without_starving() -> None:
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
    # Lower than request handlers, but still scheduled when the CPU is busy (SCHED_IDLE
    # threads are not: sign-ins starved under load).
    assert 0 < niceness < 19
    assert policy == os.SCHED_BATCH
    assert name.startswith("password-hash")
    # The caller's own thread is untouched.
    assert os.sched_getscheduler(0) != os.SCHED_BATCH


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


def test_a_hash_that_cannot_start_in_time_is_refused_and_never_runs() -> None:
    pool = HashPool(workers=1, max_wait=0.2)
    release = threading.Event()
    ran: list[str] = []

    async def scenario() -> tuple[object, object]:
        busy = asyncio.ensure_future(pool.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)  # the only hash thread is taken
        waiting = pool.run(lambda: ran.append("late"))
        with pytest.raises(HashQueueFull) as refused:
            await waiting
        release.set()
        return await busy, refused.value.retry_after

    try:
        first, retry_after = asyncio.run(scenario())
        # The refused hash stays refused when its turn comes: no CPU spent on it.
        assert asyncio.run(pool.run(lambda: "next")) == "next"
    finally:
        pool.shutdown()
    assert first is True
    assert retry_after == 1
    assert ran == []


def test_a_full_hash_queue_refuses_at_once() -> None:
    pool = HashPool(workers=1, max_wait=5, max_queued=1)
    release = threading.Event()

    async def scenario() -> None:
        running = asyncio.ensure_future(pool.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(pool.run(lambda: 1))
        await asyncio.sleep(0.05)
        with pytest.raises(HashQueueFull) as refused:
            await pool.run(lambda: 2)
        assert refused.value.retry_after == 5
        release.set()
        assert await running is True
        assert await queued == 1

    try:
        asyncio.run(scenario())
    finally:
        pool.shutdown()


def test_a_hash_whose_request_was_cancelled_never_runs() -> None:
    pool = HashPool(workers=1, max_wait=5)
    release = threading.Event()
    ran: list[str] = []

    async def scenario() -> None:
        busy = asyncio.ensure_future(pool.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(pool.run(lambda: ran.append("late")))
        await asyncio.sleep(0.05)
        waiting.cancel()  # the client went away
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        await busy
        assert await pool.run(lambda: "next") == "next"

    try:
        asyncio.run(scenario())
    finally:
        pool.shutdown()
    assert ran == []
