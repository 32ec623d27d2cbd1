"""The baseline: a bare ASGI app that returns recorded responses byte for byte.

It is served by the same uvicorn, on the same core, as the real API, so the ratio
between the two is the cost of Backstrong's own code (routing, validation,
database, serialisation).
"""

from __future__ import annotations

import json
import os
from typing import Any

_RECORDED: dict[str, dict[str, Any]] = json.loads(
    open(os.environ["BENCH_RECORDED"], encoding="utf-8").read()  # noqa: SIM115
)


def recording_key(scope: dict[str, Any]) -> str:
    query = scope["query_string"].decode()
    etag = dict(scope["headers"]).get(b"if-none-match", b"").decode()
    return f"{scope['method']} {scope['path']}?{query}|{etag}"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        # Drain the request body as a real app would.
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    recorded = _RECORDED.get(recording_key(scope))
    if recorded is None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = recorded["body"].encode("latin-1")
    headers = [(k.encode(), v.encode()) for k, v in recorded["headers"]]
    await send({"type": "http.response.start", "status": recorded["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})
