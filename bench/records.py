"""What a load run saw (answers per endpoint) and what its clients were told was stored
(the ledger the reconciliation checks against the database)."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bench.http import Response

# Statuses that are a normal answer for each endpoint (304: a revalidated catalog; 412:
# two admins raced for one exercise). A retried create answers 201 like the first.
EXPECTED: dict[str, set[int]] = {
    "GET /v1/exercises": {200, 304},
    "GET /v1/exercises/{slug}": {200, 304},
    "GET /v1/routine": {200},
    "POST /v1/sessions": {201},
    "PUT /v1/sessions/{id}/log": {200},
    "POST /v1/checkins": {201},
    "POST /v1/wearable/uploads": {201},
    "PATCH /v1/exercises/{slug}": {200, 412},
}
# The problem type of a 503 for a database that is down, out of connections or (SQLite)
# locked by another writer: the "database is locked" of issue 16, as clients see it.
DATABASE_UNAVAILABLE = "/problems/database-unavailable"


@dataclass
class Endpoint:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    connection_errors: int = 0


@dataclass
class Stats:
    started: float = field(default_factory=time.monotonic)
    endpoints: dict[str, Endpoint] = field(default_factory=lambda: defaultdict(Endpoint))
    # (sent at, answered at, endpoint, status; 0 = connection lost), for fault timelines.
    events: list[tuple[float, float, str, int]] = field(default_factory=list)
    replays: Counter[str] = field(default_factory=Counter)
    replay_mismatches: int = 0
    gave_up: Counter[str] = field(default_factory=Counter)
    # Longest time from first send to final answer, for requests that needed retries.
    longest_retry: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    unexpected: list[str] = field(default_factory=list)
    # 503s typed /problems/database-unavailable, per endpoint.
    database_unavailable: Counter[str] = field(default_factory=Counter)

    def record(self, label: str, sent: float, status: int) -> None:
        now = time.monotonic()
        endpoint = self.endpoints[label]
        if status:
            endpoint.latencies.append(now - sent)
            endpoint.statuses[status] += 1
        else:
            endpoint.connection_errors += 1
        self.events.append((sent, now, label, status))

    def note(self, label: str, response: Response) -> None:
        if len(self.unexpected) < 20:
            self.unexpected.append(f"{label} -> {response.status}: {response.body[:300]!r}")

    def note_unavailable(self, label: str, response: Response) -> None:
        try:
            kind = json.loads(response.body).get("type")
        except (ValueError, AttributeError):
            return
        if kind == DATABASE_UNAVAILABLE:
            self.database_unavailable[label] += 1


@dataclass
class Ledger:
    """Writes the server acknowledged (2xx), and writes tried but never acknowledged."""

    sessions: dict[str, str] = field(default_factory=dict)  # id -> user id
    logs: dict[str, int] = field(default_factory=dict)  # session id -> entries sent
    checkins: set[str] = field(default_factory=set)
    uploads: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # key -> ...
    patches: Counter[str] = field(default_factory=Counter)
    unacknowledged: set[str] = field(default_factory=set)
