"""First come, first served: at most as many requests at work as the pool has connections.

Without this, a saturated worker lets every request in: dozens of worker threads then
wait on the connection pool, which hands a returned connection to whichever thread
grabs it first, so some requests wait many times the average and fail at the pool
timeout while later ones pass them (bench.load on PostgreSQL: about 100 503s a minute,
mostly `GET /v1/routine`, at p50 latencies of 2-3 s). Here requests wait in arrival
order, on the event loop and holding nothing, for one of `limit` places; a request that
cannot get one within `wait_seconds` is answered 503 `/problems/busy` with Retry-After,
having run nothing.

Sign-ins and account deletion (they wait for the password-hash queue, which bounds them
itself), health checks, the API documents and static files do not queue here. Catalog
reads answered from the replay cache never reach this far. A request's body is read
before it queues, so a client sending slowly holds no place.
"""

from __future__ import annotations

import anyio
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

EXEMPT_PREFIXES = ("/v1/auth/", "/healthz", "/readyz", "/metrics", "/static/", "/docs")
EXEMPT = frozenset({"/openapi.json", "/redoc"})
EXEMPT_METHODS = frozenset({("DELETE", "/v1/me")})  # a password check
RETRY_AFTER_SECONDS = 1
# Connections the pool keeps for what does not queue: the catalog version probe holds
# one for good, and sign-ins and health checks need one now and then.
RESERVED_CONNECTIONS = 2


def places_for(pool_size: int, max_overflow: int) -> int:
    """How many requests may work at once: every one of them finds a connection."""
    return max(1, pool_size + max_overflow - RESERVED_CONNECTIONS)


def queues(method: str, path: str) -> bool:
    """Whether a request waits for a place (and so may be answered 503 busy)."""
    return not (
        path in EXEMPT or path.startswith(EXEMPT_PREFIXES) or (method, path) in EXEMPT_METHODS
    )


class Admission:
    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.places = anyio.CapacityLimiter(limit)
        self.wait_seconds = wait_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not queues(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        receive = await _read_body(receive)
        admitted = False
        with anyio.move_on_after(self.wait_seconds):
            await self.places.acquire()
            admitted = True
        if not admitted:
            await self._busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.places.release()

    async def _busy(self, send: Send) -> None:
        await self._send_problem(
            send,
            503,
            "busy",
            "The server has too many requests at work right now; nothing was done. "
            "Retry after Retry-After seconds.",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @staticmethod
    async def _send_problem(
        send: Send, status: int, slug: str, detail: str, headers: dict[str, str]
    ) -> None:
        response = problem_response(status, slug, detail, headers=headers)
        raw = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": response.body})


async def _read_body(receive: Receive) -> Receive:
    """The request's whole body, read now (RequestPlumbing has read it already, within
    its size and time limits, for the methods that carry one), and a `receive` that hands
    it to the app as one message."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            # The client went away mid-body: the app is not run for half a request.
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    pending: list[Message] = [
        {"type": "http.request", "body": b"".join(chunks), "more_body": False}
    ]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
