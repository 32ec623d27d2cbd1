"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for many simulated clients.

httpx costs several times more CPU per request, and the load generator shares two cores
with the server and PostgreSQL. Each simulated client owns one connection, as a phone
does; a broken connection (server restart, killed worker) raises ConnectionLost and the
caller decides whether to retry.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

# uvicorn closes idle keep-alive connections after BACKSTRONG_KEEP_ALIVE_SECONDS (5 by
# default); reconnecting a little earlier avoids racing that close with a new request.
IDLE_RECONNECT_SECONDS = 4.0


class ConnectionLost(Exception):
    """The connection failed before a whole response arrived."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class Connection:
    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._last_used = 0.0
        self.connects = 0

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._writer is not None and time.monotonic() - self._last_used > IDLE_RECONNECT_SECONDS:
            self.close()
        if self._reader is None or self._writer is None:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout
            )
            self._reader, self._writer = reader, writer
            self.connects += 1
            return reader, writer
        return self._reader, self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        try:
            return await self._exchange(method, path, headers or {}, body)
        except TimeoutError as exc:  # before OSError, of which it is a subclass
            self.close()
            raise ConnectionLost(f"no answer within {self.timeout:g}s") from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            self.close()
            raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> Response:
        reader, writer = await self._open()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join([*lines, "", ""])).encode("latin-1") + body)
        async with asyncio.timeout(self.timeout):
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            parsed: dict[str, str] = {}
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name:
                    parsed[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
            if parsed.get("transfer-encoding", "").lower() == "chunked":
                content = await _read_chunked(reader)
            else:
                length = int(parsed.get("content-length", "0"))
                content = await reader.readexactly(length) if length else b""
        self._last_used = time.monotonic()
        if parsed.get("connection", "").lower() == "close":
            self.close()
        return Response(status, parsed, content)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
