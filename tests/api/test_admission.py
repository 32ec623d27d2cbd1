"""Requests wait for a place in arrival order, and one that waits too long is answered
503 busy with Retry-After without running (api/admission.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Receive, Scope, Send

from api.admission import Admission


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
