"""Wearable uploads: one hour at 1 Hz (3,600 samples) per upload, stored for real; and the
same hour imported as Health Connect records it, and a 10,000-sample import (issue 20),
each as a ratio of samples per second to the plain upload in the same run.

``python -m bench.wearable [--seconds N] [--connections N] [--postgres-url URL]``.
Runs the API (uvicorn, one worker, pinned like bench/__main__) on SQLite and, when a
PostgreSQL server answers, on a fresh PostgreSQL database; every request carries a new
Idempotency-Key and recording id, so each one is a real store. Prints uploads/s,
samples/s and latency, plain and gzip, then the stored size of an upload and the time
to read back a year of daily one-hour sessions for one person.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, make_url, text
from sqlmodel import Session, col, select

from api.models import WearableUpload
from api.services.wearable_summaries import unpack_heart_rate
from bench.__main__ import LOAD_CORES, _request, prepare_database, serve

SAMPLES = 3600
START = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
MARK = "RECORDING-ID-PLACEHOLDER-0000000000000"


def heart_rate_walk(seed: int = 42) -> list[int]:
    """A realistic-looking trace: a bounded random walk, not a pattern zlib can fold."""
    rng = random.Random(seed)
    bpm, out = 85, []
    for _ in range(SAMPLES):
        bpm = min(170, max(60, bpm + rng.choice((-3, -2, -1, 0, 0, 1, 2, 3))))
        out.append(bpm)
    return out


def health_connect_template(samples: int = SAMPLES) -> bytes:
    """The same kind of hour as an ExerciseSessionRecord and its HeartRateRecord."""
    trace = heart_rate_walk()

    def at(seconds: int) -> str:
        return (START + timedelta(seconds=seconds)).isoformat()

    body = {
        "exerciseSession": {
            "startTime": at(0), "startZoneOffset": "+01:00",
            "endTime": at(samples), "endZoneOffset": "+01:00",
            "exerciseType": "EXERCISE_TYPE_STRENGTH_TRAINING",
            "segments": [
                {"startTime": at(60 * i), "endTime": at(60 * i + 50),
                 "segmentType": "EXERCISE_SEGMENT_TYPE_BACK_EXTENSION", "repetitions": 10}
                for i in range(1, 20)
            ],
            "metadata": {"id": MARK, "device": {"model": "Bench Watch"}},
        },
        "heartRate": [
            {"startTime": at(0), "endTime": at(samples),
             "samples": [{"time": at(i), "beatsPerMinute": trace[i % SAMPLES]}
                         for i in range(samples)]}
        ],
    }  # fmt: skip
    return json.dumps(body).encode()


def healthkit_template(samples: int = SAMPLES) -> bytes:
    """The same kind of hour as an HKWorkout and its heart-rate HKQuantitySamples."""
    trace = heart_rate_walk()

    def at(seconds: int) -> str:
        return (START + timedelta(seconds=seconds)).isoformat()

    body = {
        "workout": {
            "uuid": MARK, "workoutActivityType": "traditionalStrengthTraining",
            "startDate": at(0), "endDate": at(samples),
            "totalEnergyBurned": {"unit": "kcal", "value": 180.0},
            "metadata": {"HKTimeZone": "Europe/Madrid"},
        },
        "heartRate": [
            {"startDate": at(i), "quantity": {"unit": "count/min", "value": trace[i % SAMPLES]}}
            for i in range(samples)
        ],
    }  # fmt: skip
    return json.dumps(body).encode()


def template() -> bytes:
    trace = heart_rate_walk()
    body = {
        "device_session_id": MARK,
        "started_at": START.isoformat(),
        "ended_at": (START + timedelta(seconds=SAMPLES)).isoformat(),
        "heart_rate": [
            {"t": (START + timedelta(seconds=i)).isoformat(), "bpm": trace[i]}
            for i in range(SAMPLES)
        ],
        "reps": [
            {"t": (START + timedelta(seconds=60 * i)).isoformat(), "exercise_slug": "superman",
             "count": 10}
            for i in range(1, 20)
        ],
        "energy_kcal": 180.0,
        "device_model": "Bench Band",
        "software_version": "1.0",
    }  # fmt: skip
    return json.dumps(body).encode()


async def _worker(
    port: int,
    token: str,
    raw: bytes,
    gzipped: bool,
    deadline: float,
    out: list[float],
    path: str = "/v1/wearable/uploads",
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            ident = uuid.uuid4().hex.ljust(len(MARK), "0")[: len(MARK)]
            body = raw.replace(MARK.encode(), ident.encode())
            if gzipped:
                body = gzip.compress(body, 5)
            head = [
                f"POST {path} HTTP/1.1",
                f"Host: 127.0.0.1:{port}",
                f"Authorization: Bearer {token}",
                f"Idempotency-Key: {ident}",
                "Content-Type: application/json",
                f"Content-Length: {len(body)}",
            ]
            if gzipped:
                head.append("Content-Encoding: gzip")
            started = time.perf_counter()
            writer.write(("\r\n".join([*head, "", ""])).encode() + body)
            response = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in response.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if response[9:12] != b"201":
                raise RuntimeError(f"upload failed: {response[:12]!r}")
            out.append(time.perf_counter() - started)
    finally:
        writer.close()


def drive(
    port: int,
    token: str,
    raw: bytes,
    gzipped: bool,
    seconds: float,
    conns: int,
    path: str = "/v1/wearable/uploads",
    samples: int = SAMPLES,
) -> dict[str, float]:
    if LOAD_CORES:
        os.sched_setaffinity(0, LOAD_CORES)
    latencies: list[float] = []

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(
            *(
                _worker(port, token, raw, gzipped, start + seconds, latencies, path)
                for _ in range(conns)
            )
        )
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    latencies.sort()
    return {
        "uploads": len(latencies),
        "uploads_per_s": len(latencies) / elapsed,
        "samples_per_s": len(latencies) * samples / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def account(port: int) -> str:
    email, password = f"w{uuid.uuid4().hex[:8]}@bench.example", "bench-password-1"
    status, _, body = _request(
        port, "/v1/auth/register", {"Content-Type": "application/json"}, "POST",
        json.dumps({"email": email, "password": password}),
    )  # fmt: skip
    assert status == 202, body
    status, _, body = _request(
        port, "/v1/auth/token", {"Content-Type": "application/x-www-form-urlencoded"}, "POST",
        f"username={email}&password={password}",
    )  # fmt: skip
    access = json.loads(body)["access_token"]
    status, _, body = _request(
        port, "/v1/me/devices",
        {"Content-Type": "application/json", "Authorization": f"Bearer {access}"}, "POST",
        json.dumps({"name": "bench"}),
    )  # fmt: skip
    assert status == 201, body
    return str(json.loads(body)["token"])


def year_of_reads(url: str) -> tuple[float, float, int]:
    """(average stored bytes per upload, ms to read and unpack a year, uploads read)."""
    engine = create_engine(url)
    with Session(engine) as session:
        uploads = col(WearableUpload.source) == "upload"
        avg = session.exec(
            select(func.avg(func.length(col(WearableUpload.heart_rate)))).where(uploads)
        ).one()
        user_id = session.exec(
            select(WearableUpload.user_id)
            .where(uploads)
            .group_by(col(WearableUpload.user_id))
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        started = time.perf_counter()
        blobs = session.exec(
            select(WearableUpload.heart_rate)
            .where(WearableUpload.user_id == user_id, uploads)
            .order_by(col(WearableUpload.started_at).desc())
            .limit(365)
        ).all()
        samples = sum(len(unpack_heart_rate(b)) for b in blobs)
        elapsed = (time.perf_counter() - started) * 1000
    engine.dispose()
    assert samples == len(blobs) * SAMPLES
    return float(avg or 0), elapsed, len(blobs)


def bench_one(label: str, env: dict[str, str], args: argparse.Namespace) -> None:
    raw = template()
    imports = "/v1/wearable/imports/health-connect"
    with serve("api.main:app", env) as port:
        token = account(port)
        plain = drive(port, token, raw, False, args.seconds, args.connections)
        zipped = drive(port, token, raw, True, args.seconds, args.connections)
        # Imports as the phone app sends them (its own account: reads below are uploads').
        phone = account(port)
        hour = drive(
            port, phone, health_connect_template(), True, args.seconds, args.connections, imports
        )
        big = drive(
            port, phone, health_connect_template(10_000), True, args.seconds, args.connections,
            imports, 10_000,
        )  # fmt: skip
        apple = drive(
            port, phone, healthkit_template(10_000), True, args.seconds, args.connections,
            "/v1/wearable/imports/healthkit", 10_000,
        )  # fmt: skip
    print(f"{label}: 3,600-sample uploads, {args.connections} connections, {args.seconds:g}s each")
    rows = (
        ("plain JSON", plain), ("gzip", zipped),
        ("HC 3,600 gz", hour), ("HC 10k gz", big), ("HK 10k gz", apple),
    )  # fmt: skip
    for name, r in rows:
        ratio = r["samples_per_s"] / plain["samples_per_s"]
        print(
            f"  {name:11} {r['uploads_per_s']:7.1f} req/s  {r['samples_per_s']:9.0f} samples/s"
            f"  p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  ({r['uploads']:.0f} stored)"
            f"  {ratio:.2f}x plain upload's samples/s"
        )
    avg, read_ms, count = year_of_reads(env["BACKSTRONG_DATABASE_URL"])
    print(
        f"  stored heart rate: {avg:,.0f} bytes per 1-hour upload ({avg / SAMPLES:.2f} B/sample);"
        f" a year of daily hours = {avg * 365 / 1e6:.2f} MB;"
        f" reading back {count} uploads ({count * SAMPLES:,} samples): {read_ms:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wearable")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="a server to create a temporary database on",
    )  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backstrong-wearable-") as tmp:
        env = prepare_database(Path(tmp), accounts=False)
        bench_one("SQLite", env, args)
        base = make_url(args.postgres_url)
        name = f"backstrong_bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - no server is a normal case here
            print(f"PostgreSQL: skipped ({type(exc).__name__}: no server at {base.host})")
            return
        try:
            pg_env = prepare_database(
                Path(tmp),
                url=base.set(database=name).render_as_string(hide_password=False),
                accounts=False,
            )
            bench_one("PostgreSQL", pg_env, args)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
