"""First come, first served: at most as many requests at work as the pool has connections.

Without this, a saturated worker lets every request in: dozens of worker threads then
wait on the connection pool, which hands a returned connection to whichever thread
grabs it first, so some requests wait many times the average and fail at the pool
timeout while later ones pass them (bench.load on PostgreSQL: about 100 503s a minute,
mostly `GET /v1/routine`, at p50 latencies of 2-3 s). Here requests wait in arrival
order, on the event loop and holding nothing, for one of `limit` places; a request that
cannot get one within `wait_seconds` is answered 503 `/problems/busy` with Retry-After,
having run nothing.

Sign-ins (they wait for the password-hash queue, which bounds them itself), health
checks, the API documents and static files do not queue here. Catalog reads answered
from the replay cache never reach this far.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from api.problems import problem_response

EXEMPT_PREFIXES = ("/v1/auth/", "/healthz", "/readyz", "/metrics", "/static/", "/docs")
EXEMPT = frozenset({"/openapi.json", "/redoc"})
RETRY_AFTER_SECONDS = 1


class Admission:
    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.places = anyio.CapacityLimiter(limit)
        self.wait_seconds = wait_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in EXEMPT or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
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

    @staticmethod
    async def _busy(send: Send) -> None:
        response = problem_response(
            503,
            "busy",
            "The server has too many requests at work right now; nothing was done. "
            "Retry after Retry-After seconds.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
