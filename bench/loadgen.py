"""A small keep-alive HTTP/1.1 load generator (used when wrk is not installed).

Run as a separate process so it can be pinned to its own core:
``python -m bench.loadgen --port P --path /x [--method POST --body B] [--header H ...]``;
prints JSON with req/s, p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time


async def _worker(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                errors.append(status)
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
) -> dict[str, float]:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join([*lines, "", ""])).encode() + body
    latencies: list[float] = []
    errors: list[int] = []
    # A short warm-up so lazy start-up work is not measured.
    warm_deadline = time.perf_counter() + min(1.0, seconds / 5)
    await asyncio.gather(
        *(_worker(host, port, request, warm_deadline, [], []) for _ in range(connections))
    )
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_worker(host, port, request, deadline, latencies, errors) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0
        )

    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": len(errors),
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
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
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
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
