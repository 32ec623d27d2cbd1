"""Request plumbing for every response: an id, security headers, a body limit, an access
log and the request metrics.

Pure ASGI (no per-request objects beyond what is needed), outermost in the stack, so
even errors raised before routing carry the request id.
"""

from __future__ import annotations

import logging
import os
import re
import time

import anyio
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.context import request_id_var
from api.json_log import ACCESS_LOGGER, queue_access_line
from api.metrics import RequestMetrics
from api.problems import problem_response

access_log = logging.getLogger(ACCESS_LOGGER)

REQUEST_ID_HEADER = "x-request-id"
# Accept a caller's id (a load balancer's, a phone's) only if it is plainly an id.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# In production the API is only reached over HTTPS (behind a TLS-terminating proxy), so
# browsers are told never to try plain HTTP: a year, the usual preload minimum.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
# What the API answers about a person is theirs: no shared cache (or browser history)
# keeps it. Routes whose answers may be kept (the catalog, the rules page) say so.
NO_STORE = (b"cache-control", b"no-store")


def security_headers(production: bool) -> list[tuple[bytes, bytes]]:
    return [*SECURITY_HEADERS, HSTS] if production else list(SECURITY_HEADERS)


# What a request whose client disconnected before sending its body is counted as.
CLIENT_CLOSED = 499

# One limit for every body; routes that take more (wearable uploads) read and bound
# their bodies themselves and are listed here with their own ceiling.
DEFAULT_BODY_LIMIT = 1024 * 1024
BODY_LIMITS = {"/v1/wearable/uploads": 8 * 1024 * 1024}


def request_id_for(incoming: str) -> str:
    # 128 random bits; os.urandom directly is several times cheaper than uuid4().
    return incoming if incoming and _VALID_ID.match(incoming) else os.urandom(16).hex()


class RequestPlumbing:
    def __init__(
        self,
        app: ASGIApp,
        metrics: RequestMetrics | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        body_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = SECURITY_HEADERS if headers is None else headers
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        declared: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
        request_id = request_id_for(incoming)
        api = scope["path"].startswith("/v1/")
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False
        limit = BODY_LIMITS.get(scope["path"], DEFAULT_BODY_LIMIT)

        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._too_large(send, request_id, limit)
            self._done(scope, 413, started, request_id)
            request_id_var.reset(token)
            return

        app_receive = receive
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            # The whole body, read here: within the limit (a body sent without a length,
            # chunked, is counted here, so the 413 is ours and not a parsing error further
            # in), within the time limit (a client sending slowly, or never, is let go
            # with a 408 instead of holding the connection open), and whole (a client
            # that went away mid-body is not answered, and the app never runs for half a
            # request).
            chunks: list[bytes] = []
            received = 0
            try:
                with anyio.fail_after(self.body_seconds):
                    while True:
                        message = await receive()
                        if message["type"] != "http.request":
                            raise ClientDisconnect()
                        chunks.append(message.get("body", b""))
                        received += len(chunks[-1])
                        if received > limit:
                            await self._too_large(send, request_id, limit)
                            self._done(scope, 413, started, request_id)
                            request_id_var.reset(token)
                            return
                        if not message.get("more_body", False):
                            break
            except TimeoutError:
                await self._send_problem(
                    send,
                    request_id,
                    408,
                    "request-timeout",
                    f"The body did not arrive within {self.body_seconds:g} seconds; nothing "
                    "was done.",
                    close=True,
                )
                self._done(scope, 408, started, request_id)
                request_id_var.reset(token)
                return
            except ClientDisconnect:
                logging.getLogger("api.errors").info("client went away before its body arrived")
                self._done(scope, CLIENT_CLOSED, started, request_id)
                request_id_var.reset(token)
                return
            buffered: list[Message] = [
                {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            ]

            async def replay() -> Message:
                if buffered:
                    return buffered.pop()
                return await receive()

            app_receive = replay

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                headers.extend(self.headers)
                if api and not any(name == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, app_receive, send_with_headers)
        except ClientDisconnect:
            # The client went away while the app waited for it (a route that reads more
            # after its body): nothing broken. Counted and logged as 499 (nginx's "client
            # closed request") unless an answer had already started.
            if not response_started:
                status = CLIENT_CLOSED
            logging.getLogger("api.errors").info("client went away during its request")
        except Exception:
            # Answered here, inside the request's context, so the 500 carries its id.
            status = 500
            logging.getLogger("api.errors").exception("unhandled error")
            if not response_started:
                await self._send_problem(
                    send, request_id, 500, "internal-error", "An unexpected error occurred."
                )
        finally:
            self._done(scope, status, started, request_id)
            request_id_var.reset(token)

    def _done(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        self.log(scope, status, started, request_id)
        if self.metrics is not None:
            # Read after the app ran: the router has put the matched route in the scope.
            self.metrics.observe(scope, status, time.perf_counter() - started)

    async def _too_large(self, send: Send, request_id: str, limit: int) -> None:
        await self._send_problem(
            send, request_id, 413, "payload-too-large", f"The body is larger than {limit} bytes."
        )

    async def _send_problem(
        self, send: Send, request_id: str, status: int, slug: str, detail: str, close: bool = False
    ) -> None:
        response = problem_response(status, slug, detail)
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        if close:
            headers.append((b"connection", b"close"))
        headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
        headers.extend(self.headers)
        headers.append(NO_STORE)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    @staticmethod
    def log(scope: Scope, status: int, started: float, request_id: str) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        # Method, path and status only: no query strings, headers or bodies, which may
        # hold tokens or health data.
        seconds = time.perf_counter() - started
        if queue_access_line(request_id, scope["method"], scope["path"], status, seconds):
            return
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
            },
        )
