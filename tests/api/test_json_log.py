"""Log lines written by the background writer keep their shape, and nothing is lost on stop."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from api.config import Settings
from api.json_log import JsonFormatter, LineWriter, QueuedJsonHandler, sole_queue
from api.main import configure_logging

ACCESS_KEYS = [
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
]


@pytest.fixture
def configured(settings: Settings) -> Iterator[tuple[QueuedJsonHandler, io.StringIO]]:
    """configure_logging as a server runs it, writing to a stream the test reads.

    pytest's capture handlers are set aside first (basicConfig(force=True) would close
    them) and put back after.
    """
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    root.handlers = []
    stream = io.StringIO()
    configure_logging(settings, stream)
    handler = root.handlers[0]
    assert isinstance(handler, QueuedJsonHandler)
    try:
        yield handler, stream
    finally:
        handler.close()
        root.handlers = saved
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_access_lines_through_the_queue_carry_the_request(
    app: FastAPI, configured: tuple[QueuedJsonHandler, io.StringIO]
) -> None:
    handler, stream = configured
    # Nothing else listens (pytest's capture, added for each test phase, is set aside),
    # so the request path queues a tuple, not a LogRecord.
    logging.getLogger().handlers = [handler]
    assert sole_queue(logging.getLogger("api.access")) is handler
    with TestClient(app) as c:
        health = c.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
        # The second read of the list is answered by the catalog replay.
        listed = [c.get("/v1/exercises", params={"q": "secret-search"}) for _ in range(2)]
        missing = c.get("/nope")
    handler.close()  # as at exit: what is queued is written

    access = [line for line in lines(stream) if line["logger"] == "api.access"]
    assert [list(line) for line in access] == [ACCESS_KEYS] * 4
    responses = [health, *listed, missing]
    assert [(a["request_id"], a["method"], a["path"], a["status"]) for a in access] == [
        (r.headers["x-request-id"], "GET", r.request.url.path, r.status_code) for r in responses
    ]
    assert access[0]["request_id"] == "lb-1234abcd"
    assert [a["status"] for a in access] == [200, 200, 200, 404]
    for line in access:
        assert line["level"] == "INFO"
        assert line["message"] == "request"
        assert isinstance(line["duration_ms"], float)
        assert line["duration_ms"] >= 0
    assert "secret-search" not in json.dumps(access)


def test_the_writer_writes_what_the_formatter_would(
    configured: tuple[QueuedJsonHandler, io.StringIO],
) -> None:
    handler, _ = configured
    created, seconds = time.time(), 0.0123456
    path = '/v1/exercises/"quoted"\\back\u00e9\u2603'
    record = logging.getLogger("api.access").makeRecord(
        "api.access",
        logging.INFO,
        __file__,
        1,
        "request",
        (),
        None,
        extra={
            "request_id": "lb-1234abcd",
            "method": "GET",
            "path": path,
            "status": 200,
            "duration_ms": round(seconds * 1000, 2),
        },
    )
    record.created = created
    queued = handler.writer._access_line((created, "lb-1234abcd", "GET", path, 200, seconds))
    assert queued == JsonFormatter().format(record) + "\n"


def test_other_handlers_still_get_access_records(
    client: TestClient,
    configured: tuple[QueuedJsonHandler, io.StringIO],
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler, stream = configured
    assert caplog.handler in logging.getLogger().handlers  # pytest's, for this test
    assert sole_queue(logging.getLogger("api.access")) is None
    rid = client.get("/healthz").headers["x-request-id"]
    handler.flush()
    assert [r.request_id for r in caplog.records if r.name == "api.access"] == [rid]  # type: ignore[attr-defined]
    assert [line["request_id"] for line in lines(stream) if line["logger"] == "api.access"] == [rid]


def test_an_error_line_keeps_its_request_id_and_traceback(
    app: FastAPI, configured: tuple[QueuedJsonHandler, io.StringIO]
) -> None:
    handler, stream = configured
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as c:
        rid = c.get("/boom").headers["x-request-id"]
    handler.flush()
    error = next(line for line in lines(stream) if line["logger"] == "api.errors")
    assert error["request_id"] == rid
    assert "RuntimeError: boom" in str(error["error"])


class StuckStream(io.StringIO):
    """A stream whose first write waits until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        assert self.release.wait(5)
        return super().write(text)


def test_a_full_queue_drops_and_counts_instead_of_blocking() -> None:
    stream = StuckStream()
    writer = LineWriter(stream, capacity=3, interval=0.001)
    writer.put("first\n")
    assert stream.entered.wait(5)  # the writer thread is stuck writing it
    started = time.perf_counter()
    for n in range(5):
        writer.put(f"line {n}\n")
    assert time.perf_counter() - started < 0.5
    stream.release.set()
    writer.stop()
    written = stream.getvalue().splitlines()
    assert written[:4] == ["first", "line 0", "line 1", "line 2"]
    notice = json.loads(written[4])
    assert notice["level"] == "WARNING"
    assert notice["message"].startswith("2 log line(s) dropped")
    # After stop a line is written at once, not queued for a thread that is gone.
    writer.put("late\n")
    assert stream.getvalue().endswith("late\n")
