"""A small keep-alive HTTP/1.1 load generator (used when wrk is not installed, and for
writes that must differ per request).

Run as a separate process so it can be pinned to its own core:
``python -m bench.loadgen --port P --path /x [--method POST --body B] [--header H ...]``
``[--body-template T] [--paths-file F]``; prints JSON with req/s, p50, p99, errors
(status 400 or more, as wrk counts them, plus lost connections) and every status seen.

``--body-template``: ``{uuid}`` (a fresh uuid4) and ``{now}`` (the current time, ISO 8601
with its offset) are filled in for each request, so writes with a client id are each new.
``--paths-file``: one request per line, ``PATH``, ``PATH<TAB>BODY`` or
``PATH<TAB>BODY<TAB>TOKEN``, each sent once in order (the warm-up takes the first); the
run ends early when they run out (``exhausted``), for writes that can happen only once
per resource. A line's TOKEN is sent as its ``Authorization: Bearer`` header.
``--tokens-file``: one bearer token per line; connection ``i`` sends line ``i`` (modulo
their number) as its ``Authorization`` header, so that writes are spread over people.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

# A request: (path, body), or None when there are no more to send.
# (path, body, bearer token for this request or "")
Next = Callable[[], tuple[str, bytes, str] | None]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lost: int = 0
    last_done: float = 0.0
    exhausted: bool = False


def fixed(path: str, body: bytes) -> Next:
    return lambda: (path, body, "")


def templated(path: str, template: str) -> Next:
    def make() -> tuple[str, bytes, str]:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        body = template.replace("{uuid}", str(uuid.uuid4())).replace("{now}", now).encode()
        return path, body, ""

    return make


def from_file(lines: list[str], default_body: bytes) -> Next:
    queue: Iterator[str] = iter(lines)

    def take() -> tuple[str, bytes, str] | None:
        line = next(queue, None)
        if line is None:
            return None
        path, tab, rest = line.partition("\t")
        body, _, token = rest.partition("\t")
        return path, body.encode() if tab else default_body, token

    return take


def _head(method: str, path: str, host_lines: list[str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *host_lines]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([*lines, "", ""])).encode()


async def _worker(
    host: str,
    port: int,
    method: str,
    host_lines: list[str],
    take: Next,
    deadline: float,
    tally: Tally,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            request = take()
            if request is None:
                tally.exhausted = True
                return
            path, body, token = request
            lines = [*host_lines, f"Authorization: Bearer {token}"] if token else host_lines
            started = time.perf_counter()
            try:
                writer.write(_head(method, path, lines, body) + body)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                # Counted, then a new connection: one lost answer must not end the run.
                tally.lost += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            done = time.perf_counter()
            tally.latencies.append(done - started)
            tally.statuses[status] += 1
            tally.last_done = done
    finally:
        writer.close()


async def run(
    host: str,
    port: int,
    path: str,
    seconds: float,
    connections: int,
    headers: list[str],
    method: str = "GET",
    body: bytes = b"",
    take: Next | None = None,
    tokens: list[str] | None = None,
) -> dict[str, object]:
    host_lines = [f"Host: {host}:{port}", *headers]

    def lines_of(connection: int) -> list[str]:
        if not tokens:
            return host_lines
        return [*host_lines, f"Authorization: Bearer {tokens[connection % len(tokens)]}"]

    take = take or fixed(path, body)
    # A short warm-up so lazy start-up work is not measured.
    warm_deadline = time.perf_counter() + min(1.0, seconds / 5)
    warm = Tally()
    await asyncio.gather(
        *(
            _worker(host, port, method, lines_of(c), take, warm_deadline, warm)
            for c in range(connections)
        )
    )
    tally = Tally()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            _worker(host, port, method, lines_of(c), take, deadline, tally)
            for c in range(connections)
        )
    )
    # Ended by running out of requests: the rate is over the time they took.
    exhausted = warm.exhausted or tally.exhausted
    ended = tally.last_done if exhausted and tally.last_done else time.perf_counter()
    elapsed = max(ended - started, 1e-9)
    latencies = sorted(tally.latencies)

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    non_2xx = sum(n for status, n in tally.statuses.items() if not 200 <= status < 300)
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": sum(n for status, n in tally.statuses.items() if status >= 400) + tally.lost,
        "non_2xx": non_2xx + tally.lost,
        "lost": tally.lost,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "exhausted": exhausted,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    parser.add_argument("--body-template", help="{uuid} and {now} are filled per request")
    parser.add_argument("--paths-file", help="one PATH or PATH<TAB>BODY per line, each sent once")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--tokens-file", help="one bearer token per line, one per connection")
    args = parser.parse_args()
    tokens = None
    if args.tokens_file:
        with open(args.tokens_file, encoding="utf-8") as f:
            tokens = [line for line in f.read().splitlines() if line]
    take: Next | None = None
    if args.paths_file:
        with open(args.paths_file, encoding="utf-8") as f:
            take = from_file(f.read().splitlines(), args.body.encode())
    elif args.body_template:
        take = templated(args.path, args.body_template)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        run(
            args.host,
            args.port,
            args.path,
            args.seconds,
            args.connections,
            args.header,
            args.method,
            args.body.encode(),
            take,
            tokens,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
