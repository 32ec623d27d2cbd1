"""JSON log lines, written to the output by a background thread.

Every record becomes one JSON object per line (``JsonFormatter``). The output is
written by a thread (``LineWriter``), in batches, so no request waits for a write to
stderr. The access line of every request (api/middleware.py) takes a shorter way
still: when the writer's handler is the only place logging would send the record, the
request path queues a plain tuple and the writer thread builds the line, with no
``LogRecord`` and no JSON on the request path. The line is the same either way.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import weakref
from collections import deque
from json.encoder import encode_basestring_ascii
from typing import TextIO

from api.context import request_id_var

ACCESS_LOGGER = "api.access"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
# Lines waiting for the writer. At full speed (about 20,000 requests a second per
# process) this is a few seconds of lines, a few megabytes at most: an output stalled
# longer than that (a full pipe to a stuck collector) costs lines, which are dropped
# and counted, rather than blocking the event loop, which would stall every request.
MAX_PENDING = 50_000
# How often the writer wakes: a line reaches the output at most this late, and a
# batch at full speed is about a thousand lines, written in one call.
FLUSH_SECONDS = 0.05
# One write holds at most this many lines, so a backlog is not joined into one string.
BATCH_LINES = 4096

# (time.time(), request id, method, path, status, seconds taken)
AccessLine = tuple[float, str, str, str, int, float]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for log pipelines, hard to inject into."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, TIME_FORMAT),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for name in self.FIELDS[1:]:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# What JsonFormatter writes for an access record, field for field (json.dumps's
# separators; encode_basestring_ascii is its string encoder, float repr its numbers).
_ACCESS_TEMPLATE = (
    '{"time": "%s", "level": "INFO", "logger": "' + ACCESS_LOGGER + '", "message": "request", '
    '"request_id": %s, "method": %s, "path": %s, "status": %d, "duration_ms": %r}\n'
)


class LineWriter:
    """Writes queued lines to a stream from its own thread.

    ``put`` never blocks and takes no lock: a deque's append is atomic, and the thread
    polls every FLUSH_SECONDS instead of being woken for each line.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        capacity: int = MAX_PENDING,
        interval: float = FLUSH_SECONDS,
    ) -> None:
        self.stream = stream
        self.capacity = capacity
        self.interval = interval
        self.dropped = 0
        self._reported = 0
        self._second = -1
        self._stamp = ""
        self._start()
        _writers.add(self)

    def _start(self) -> None:
        self._pending: deque[AccessLine | str] = deque()
        self._stopped = False
        self._stop = threading.Event()
        # Held while writing, so a flush from another thread waits for a batch in flight.
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="json-log-writer", daemon=True)
        self._thread.start()

    def put(self, item: AccessLine | str, *, urgent: bool = False) -> None:
        """Queue a line; `urgent` ones (warnings and errors) are kept even when the queue
        is full, since they are few and are what an operator needs."""
        if self._stopped:
            with self._lock:
                self._write([item])
            return
        if not urgent and len(self._pending) >= self.capacity:
            self.dropped += 1
            return
        self._pending.append(item)

    def flush(self) -> None:
        """Write everything queued so far before returning."""
        with self._lock:
            while self._pending:
                self._write_batch()

    def stop(self) -> None:
        """Write what is queued and end the thread; later lines are written at once."""
        if self._stopped:
            return
        self._stop.set()
        self._thread.join()
        self._stopped = True
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()
        self.flush()

    def _write_batch(self) -> None:
        pending = self._pending
        batch = [pending.popleft() for _ in range(min(len(pending), BATCH_LINES))]
        self._write(batch)

    def _write(self, batch: list[AccessLine | str]) -> None:
        try:
            lines = [item if isinstance(item, str) else self._access_line(item) for item in batch]
            if self.dropped > self._reported:
                lines.append(self._drop_notice())
            self.stream.write("".join(lines))
            self.stream.flush()
        except Exception:  # noqa: BLE001 - the writer thread must outlive any one batch
            # Nowhere to say so (the output is the log); counted like a full queue.
            self.dropped += len(batch)

    def _access_line(self, item: AccessLine) -> str:
        created, request_id, method, path, status, seconds = item
        return _ACCESS_TEMPLATE % (
            self._timestamp(created),
            encode_basestring_ascii(request_id),
            encode_basestring_ascii(method),
            encode_basestring_ascii(path),
            status,
            round(seconds * 1000, 2),
        )

    def _drop_notice(self) -> str:
        dropped, self._reported = self.dropped - self._reported, self.dropped
        entry = {
            "time": self._timestamp(time.time()),
            "level": "WARNING",
            "logger": __name__,
            "message": f"{dropped} log line(s) dropped: the output did not keep up",
        }
        return json.dumps(entry) + "\n"

    def _timestamp(self, created: float) -> str:
        # The same text as JsonFormatter's formatTime, built once a second.
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(TIME_FORMAT, time.localtime(created))
        return self._stamp

    def _after_fork(self) -> None:
        # A forked child (a server that imports the app before forking its workers)
        # has no writer thread and a copy of the parent's queue, which the parent writes.
        if not self._stopped:
            self._start()


_writers: weakref.WeakSet[LineWriter] = weakref.WeakSet()


def _restart_writers() -> None:
    for writer in list(_writers):
        writer._after_fork()


os.register_at_fork(after_in_child=_restart_writers)


class QueuedJsonHandler(logging.Handler):
    """Formats a record on the caller's thread and hands the line to a LineWriter.

    Formatting there keeps the request id (a context variable) and the traceback of
    the moment; only the access line skips it (``queue_access_line``). Closing the
    handler writes what is queued: ``logging.shutdown`` closes it at exit, and
    ``logging.basicConfig(force=True)`` when it replaces it.
    """

    def __init__(self, stream: TextIO, *, capacity: int = MAX_PENDING) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.writer = LineWriter(stream, capacity=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.put(self.format(record) + "\n", urgent=record.levelno >= logging.WARNING)
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.stop()
        super().close()


def sole_queue(logger: logging.Logger) -> QueuedJsonHandler | None:
    """The QueuedJsonHandler an INFO record of ``logger`` would reach, if it reaches
    no other handler and no filter could refuse it."""
    if logger.filters:
        return None
    found: QueuedJsonHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None or type(handler) is not QueuedJsonHandler:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    if found is None or found.filters or found.level > logging.INFO:
        return None
    return found


_access_log = logging.getLogger(ACCESS_LOGGER)


def queue_access_line(request_id: str, method: str, path: str, status: int, seconds: float) -> bool:
    """Queue a request's access line for the writer thread; False (nothing done) if
    logging would send it anywhere else too, such as a test's capture handler."""
    handler = sole_queue(_access_log)
    if handler is None:
        return False
    handler.writer.put((time.time(), request_id, method, path, status, seconds))
    return True
