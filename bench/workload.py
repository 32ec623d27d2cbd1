"""Simulated clients shaped like real use, and what they were told was stored.

Every write carries a client-generated id (sessions, check-ins) or an Idempotency-Key
(wearable uploads), so a client that loses its connection simply sends the same request
again, as the apps do. A write counts as acknowledged only when a 2xx came back; the
reconciliation (bench/reconcile.py) then asks the database whether each acknowledged
write is there exactly once, whole.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.http import Connection, ConnectionLost, Response
from bench.reconcile import Check, reconcile, reconciliation_table
from bench.records import EXPECTED, Endpoint, Ledger, Stats
from bench.report import endpoint_table, error_summary, pct
from bench.stack import HOST, Account

# bench.faults imports the records, report and reconciliation from here.
__all__ = [
    "EXPECTED", "Admin", "Check", "Client", "Endpoint", "Ledger", "MobileApp", "Policy",
    "Stats", "Wearable", "drive", "endpoint_table", "error_summary", "pct", "reconcile",
    "reconciliation_table",
]  # fmt: skip

EXERCISES = [
    "warm-up", "lat-pulldown", "back-extension", "lying-lateral-leg-raise", "superman",
    "partial-curl", "knee-hug", "wide-dumbbell-row", "lower-back-rotational-stretch",
    "glute-bridge",
]  # fmt: skip
EQUIPMENT = ["mat", "chair", "resistance-band", "exercise-ball", "dumbbells"]
JSON = {"Content-Type": "application/json"}


@dataclass
class Policy:
    """How clients behave around failures."""

    # A 503's Retry-After is honoured up to this many seconds (fault runs lower it, to
    # sample the outage more densely).
    retry_after_cap: float = 5.0
    # Stop retrying one request after this long (a wearable whose first try died with
    # its worker waits out the server's 60 s in-flight lease).
    give_up_after: float = 120.0
    think_seconds: float = 0.1
    retry_share: float = 0.1  # deliberate retries of an acknowledged write


class Client:
    def __init__(
        self,
        port: int,
        account: Account,
        stats: Stats,
        ledger: Ledger,
        policy: Policy,
        seed: int,
    ) -> None:
        self.conn = Connection(HOST, port)
        self.account = account
        self.stats = stats
        self.ledger = ledger
        self.policy = policy
        self.rng = random.Random(seed)
        self.auth = {"Authorization": f"Bearer {account.token}"}

    async def think(self, scale: float = 1.0) -> None:
        await asyncio.sleep(self.rng.uniform(0, 2 * self.policy.think_seconds * scale))

    async def call(
        self,
        label: str,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        *,
        retry_conflict: bool = False,
    ) -> Response | None:
        """Send until an answer other than 503 comes back (or give up): the same bytes
        every time, so retries are safe."""
        first = time.monotonic()
        give_up = first + self.policy.give_up_after
        backoff = 0.05
        attempts = 0
        while True:
            attempts += 1
            sent = time.monotonic()
            try:
                response = await self.conn.request(method, path, headers, body)
            except ConnectionLost:
                self.stats.record(label, sent, 0)
                wait = backoff
            else:
                self.stats.record(label, sent, response.status)
                if response.status == 503:
                    self.stats.note_unavailable(label, response)
                retryable = response.status == 503 or (retry_conflict and response.status == 409)
                if not retryable:
                    if response.status not in EXPECTED.get(label, {200}):
                        self.stats.note(label, response)
                    if attempts > 1:
                        waited = time.monotonic() - first
                        longest = self.stats.longest_retry
                        longest[label] = max(longest[label], waited)
                    return response
                wait = min(
                    float(response.headers.get("retry-after", "1")), self.policy.retry_after_cap
                )
            if time.monotonic() + wait > give_up:
                self.stats.gave_up[label] += 1
                return None
            await asyncio.sleep(wait * self.rng.uniform(0.5, 1.0))
            backoff = min(backoff * 2, 1.0)

    async def run(self, deadline: float) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.conn.close()


def _now() -> datetime:
    return datetime.now(UTC)


class MobileApp(Client):
    """Catalog, routine, build a session, check in before, log it, check in after."""

    etags: dict[str, str]

    async def run(self, deadline: float) -> None:
        self.etags = {}
        while time.monotonic() < deadline:
            await self.browse()
            await self.think()
            await self.train()
            await self.think()

    async def browse(self) -> None:
        for label, path in (
            ("GET /v1/exercises", "/v1/exercises"),
            ("GET /v1/exercises/{slug}", f"/v1/exercises/{self.rng.choice(EXERCISES)}"),
        ):
            headers = dict(self.auth)
            if path in self.etags and self.rng.random() < 0.7:
                headers["If-None-Match"] = self.etags[path]
            response = await self.call(label, "GET", path, headers)
            if response is not None and "etag" in response.headers:
                self.etags[path] = response.headers["etag"]
        await self.call("GET /v1/routine", "GET", "/v1/routine", self.auth)

    async def write(
        self, label: str, method: str, path: str, payload: dict[str, Any], key: str
    ) -> Response | None:
        body = json.dumps(payload).encode()
        response = await self.call(label, method, path, {**self.auth, **JSON}, body)
        if response is None or response.status >= 300:
            self.ledger.unacknowledged.add(key)
            return None
        if self.rng.random() < self.policy.retry_share:
            # The app did not see the answer (tunnel, app killed) and sends it again.
            again = await self.call(label, method, path, {**self.auth, **JSON}, body)
            # A create's retry answers as the first did, marked as a replay; a PUT's, 200.
            replayed = (
                again is not None
                and again.status == response.status
                and (method != "POST" or again.headers.get("idempotent-replayed") == "true")
            )
            if replayed:
                self.stats.replays[label] += 1
            elif again is not None:
                self.stats.replay_mismatches += 1
                self.stats.note(f"{label} (retry)", again)
        return response

    async def checkin(self, phase: str, session_id: str) -> None:
        checkin_id = str(uuid.uuid4())
        payload = {
            "id": checkin_id,
            "recorded_at": _now().isoformat(),
            "phase": phase,
            "pain": self.rng.choice([0, 1, 1, 2]),
            "session_id": session_id,
        }
        if await self.write("POST /v1/checkins", "POST", "/v1/checkins", payload, checkin_id):
            self.ledger.checkins.add(checkin_id)

    async def train(self) -> None:
        session_id = str(uuid.uuid4())
        minutes = self.rng.choice([15, 20, 30])
        planned = await self.write(
            "POST /v1/sessions",
            "POST",
            "/v1/sessions",
            {"id": session_id, "minutes": minutes, "equipment": ["mat", "resistance-band"]},
            session_id,
        )
        if planned is None:
            return
        self.ledger.sessions[session_id] = self.account.user_id
        items = json.loads(planned.body)["items"]
        await self.checkin("before", session_id)
        await self.think()
        ended = _now()
        entries = [
            {
                "exercise_slug": item["exercise_slug"],
                "sets_completed": item["sets"],
                "reps": [item["reps"] or 1] * item["sets"],
                "hold_seconds": item["hold_seconds"],
                "rpe": self.rng.choice([3, 4, 5]),
                "pain_during": self.rng.choice([0, 1, 1, 2]),
            }
            for item in items
            if item["block"] != "warmup"
        ]
        log = {
            "started_at": (ended - timedelta(minutes=minutes)).isoformat(),
            "ended_at": ended.isoformat(),
            "entries": entries,
            "pain_after": self.rng.choice([0, 1, 1, 2]),
        }
        path = f"/v1/sessions/{session_id}/log"
        if await self.write("PUT /v1/sessions/{id}/log", "PUT", path, log, "log:" + session_id):
            self.ledger.logs[session_id] = len(entries)
        await self.checkin("after", session_id)


class Wearable(Client):
    """Uploads a finished recording (15 minutes of 1 Hz heart rate), sometimes twice."""

    samples = 900

    async def run(self, deadline: float) -> None:
        self.auth = {"Authorization": f"Bearer {self.account.device_token}"}
        while time.monotonic() < deadline:
            await self.upload()
            await self.think(scale=4)

    def recording(self) -> tuple[str, bytes, dict[str, str]]:
        device_session_id = f"rec-{uuid.uuid4().hex}"
        started = (_now() - timedelta(seconds=self.samples + 60)).replace(microsecond=0)
        base = self.rng.randint(70, 95)
        payload = {
            "device_session_id": device_session_id,
            "started_at": started.isoformat(),
            "ended_at": (started + timedelta(seconds=self.samples + 30)).isoformat(),
            "heart_rate": [
                {"t": (started + timedelta(seconds=i)).isoformat(), "bpm": base + (i * 7) % 40}
                for i in range(self.samples)
            ],
            "reps": [
                {"t": (started + timedelta(seconds=60 * i + 30)).isoformat(), "count": 10}
                for i in range(self.samples // 60)
            ],
            "energy_kcal": 80.0,
            "device_model": "Bench Band",
            "software_version": "1.0.0",
        }
        body = json.dumps(payload).encode()
        headers = {**self.auth, **JSON}
        if self.rng.random() < 0.3:
            body = gzip.compress(body, 5)
            headers["Content-Encoding"] = "gzip"
        return device_session_id, body, headers

    async def upload(self) -> None:
        device_session_id, body, headers = self.recording()
        key = str(uuid.uuid4())
        headers["Idempotency-Key"] = key
        label = "POST /v1/wearable/uploads"
        path = "/v1/wearable/uploads"
        # 409 means "the first try is still being stored" (or died with its worker and
        # waits for its lease to run out): wait and send the same again.
        first = await self.call(label, "POST", path, headers, body, retry_conflict=True)
        if first is None or first.status != 201:
            self.ledger.unacknowledged.add(key)
            return
        self.ledger.uploads[key] = (self.account.device_id, device_session_id, self.samples)
        if self.rng.random() < 2 * self.policy.retry_share:
            again = await self.call(label, "POST", path, headers, body, retry_conflict=True)
            same = (
                again is not None
                and again.status == 201
                and again.headers.get("idempotent-replayed") == "true"
                and json.loads(again.body)["id"] == json.loads(first.body)["id"]
            )
            if same:
                self.stats.replays[label] += 1
            else:
                self.stats.replay_mismatches += 1


class Admin(Client):
    """Now and then edits an exercise's summary with If-Match, as on the /docs page."""

    async def run(self, deadline: float) -> None:
        originals: dict[str, str] = {}
        edits = 0
        while time.monotonic() < deadline:
            await self.think(scale=20)
            slug = self.rng.choice(EXERCISES)
            path = f"/v1/exercises/{slug}"
            current = await self.call("GET /v1/exercises/{slug}", "GET", path, self.auth)
            if current is None or current.status != 200:
                continue
            original = originals.setdefault(slug, json.loads(current.body)["summary"])
            edits += 1
            body = json.dumps({"summary": f"{original} (edit {self.account.email} {edits})"})
            headers = {**self.auth, **JSON, "If-Match": current.headers["etag"]}
            label = "PATCH /v1/exercises/{slug}"
            response = await self.call(label, "PATCH", path, headers, body.encode())
            if response is not None and response.status == 200:
                self.ledger.patches[slug] += 1


async def drive(clients: Iterable[Client], seconds: float, grace: float = 150.0) -> float:
    """Run every client for `seconds`; each finishes the request it is in. Returns the
    measured span."""
    clients = list(clients)
    started = time.monotonic()
    deadline = started + seconds
    tasks = [asyncio.ensure_future(c.run(deadline)) for c in clients]
    done, pending = await asyncio.wait(tasks, timeout=seconds + grace)
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    for c in clients:
        c.close()
    return time.monotonic() - started
