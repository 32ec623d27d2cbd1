"""Requests wait for a place in arrival order, and one that waits too long is answered
503 busy with Retry-After without running (api/admission.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from api.admission import Admission
from tests.conftest import Account


def scope(path: str) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "headers": []}


class Held:
    """An app whose requests run until released, in the order they started."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.started.append(scope["path"])
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(app: Admission, path: str) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope(path), receive, send)
    return sent


def test_requests_past_the_limit_wait_and_go_in_arrival_order() -> None:
    async def run() -> None:
        held = Held()
        app = Admission(held, limit=1, wait_seconds=5)
        calls = []
        for path in ("/a", "/b", "/c"):
            calls.append(asyncio.ensure_future(call(app, path)))
            await asyncio.sleep(0.01)
        assert held.started == ["/a"]  # the others wait, running nothing
        held.release.set()
        answers = await asyncio.gather(*calls)
        assert held.started == ["/a", "/b", "/c"]
        assert [a[0]["status"] for a in answers] == [200, 200, 200]

    asyncio.run(run())


def test_a_request_that_waits_too_long_gets_503_busy_with_retry_after() -> None:
    async def run() -> None:
        held = Held()
        app = Admission(held, limit=1, wait_seconds=0.05)
        first = asyncio.ensure_future(call(app, "/v1/routine"))
        await asyncio.sleep(0.01)
        late = await call(app, "/v1/advice")
        assert held.started == ["/v1/routine"]  # the late one never ran
        start, body = late
        assert start["status"] == 503
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        assert headers["content-type"] == "application/problem+json"
        assert int(headers["retry-after"]) >= 1
        assert json.loads(body["body"])["type"].endswith("/problems/busy")
        # Sign-ins and health checks do not queue behind the place it holds.
        for path in ("/v1/auth/token", "/healthz"):
            waved = asyncio.ensure_future(call(app, path))
            await asyncio.sleep(0.01)
            assert held.started[-1] == path
        held.release.set()
        assert (await first)[0]["status"] == 200
        await waved

    asyncio.run(run())


def test_a_place_comes_back_when_the_app_fails_or_the_waiter_gives_up() -> None:
    async def run() -> None:
        ran: list[str] = []

        async def failing(scope: Scope, receive: Receive, send: Send) -> None:
            ran.append(scope["path"])
            raise RuntimeError("boom")

        app = Admission(failing, limit=1, wait_seconds=0.2)
        for _ in range(2):  # the first failure gave its place back: the second gets in
            with contextlib.suppress(RuntimeError):
                await call(app, "/v1/routine")
        assert ran == ["/v1/routine", "/v1/routine"]
        held = Held()
        app = Admission(held, limit=1, wait_seconds=5)
        first = asyncio.ensure_future(call(app, "/a"))
        await asyncio.sleep(0.01)
        gone = asyncio.ensure_future(call(app, "/gone"))  # its client went away
        await asyncio.sleep(0.01)
        gone.cancel()
        held.release.set()
        await first
        assert (await call(app, "/b"))[0]["status"] == 200
        assert held.started == ["/a", "/b"]

    asyncio.run(run())


def test_a_slow_body_is_read_before_it_takes_a_place() -> None:
    async def run() -> None:
        held = Held()
        app = Admission(held, limit=1, wait_seconds=5)
        arrived = asyncio.Event()

        async def slow() -> dict[str, Any]:
            await arrived.wait()
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def ignore(message: Any) -> None:
            pass

        slow_one = asyncio.ensure_future(app(scope("/slow"), slow, ignore))
        await asyncio.sleep(0.01)
        fast = asyncio.ensure_future(call(app, "/fast"))
        await asyncio.sleep(0.01)
        assert held.started == ["/fast"]  # the slow sender is not holding the place
        held.release.set()
        arrived.set()
        await asyncio.gather(slow_one, fast)

    asyncio.run(run())


class Full:
    """Every place taken."""

    async def acquire(self) -> None:
        await asyncio.Event().wait()

    def release(self) -> None:
        raise AssertionError("never acquired")


def test_through_the_app_a_busy_answer_has_an_id_security_headers_and_is_documented(
    client: TestClient, app: FastAPI, user: Account
) -> None:
    admission = app.middleware_stack
    while not isinstance(admission, Admission):
        admission = admission.app  # type: ignore[union-attr]
    admission.places = Full()  # type: ignore[assignment]
    admission.wait_seconds = 0.05
    busy = client.get("/v1/routine", headers=user.headers)
    assert busy.status_code == 503
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.headers["retry-after"] == "1"
    assert busy.headers["x-request-id"]
    assert busy.headers["x-content-type-options"] == "nosniff"
    assert busy.json()["type"].endswith("/problems/busy")
    assert client.get("/healthz").status_code == 200  # health checks never queue
    doc = client.get("/openapi.json").json()
    assert "503" in doc["paths"]["/v1/routine"]["get"]["responses"]
    assert "503" not in doc["paths"]["/v1/auth/token"]["post"]["responses"]
