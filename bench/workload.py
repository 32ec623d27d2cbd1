"""Simulated clients shaped like real use, what they were told was stored, and the check
of that against the database.

Every write carries a client-generated id (sessions, check-ins) or an Idempotency-Key
(wearable uploads), so a client that loses its connection simply sends the same request
again, as the apps do. A write counts as acknowledged only when a 2xx came back; the
reconciliation then asks PostgreSQL whether each acknowledged write is there exactly
once, whole.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from bench.http import Connection, ConnectionLost, Response
from bench.stack import HOST, Account

EXERCISES = [
    "warm-up", "lat-pulldown", "back-extension", "lying-lateral-leg-raise", "superman",
    "partial-curl", "knee-hug", "wide-dumbbell-row", "lower-back-rotational-stretch",
    "glute-bridge",
]  # fmt: skip
EQUIPMENT = ["mat", "chair", "resistance-band", "exercise-ball", "dumbbells"]
# Statuses that are a normal answer for each endpoint (304: a revalidated catalog; 200 on
# a POST: a retry of a stored write; 412: two admins raced for one exercise).
EXPECTED: dict[str, set[int]] = {
    "GET /v1/exercises": {200, 304},
    "GET /v1/exercises/{slug}": {200, 304},
    "GET /v1/routine": {200},
    "POST /v1/sessions": {200, 201},
    "PUT /v1/sessions/{id}/log": {200},
    "POST /v1/checkins": {200, 201},
    "POST /v1/wearable/uploads": {201},
    "PATCH /v1/exercises/{slug}": {200, 412},
}
JSON = {"Content-Type": "application/json"}


# --- what happened -----------------------------------------------------------------------


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


@dataclass
class Ledger:
    """Writes the server acknowledged (2xx), and writes tried but never acknowledged."""

    sessions: dict[str, str] = field(default_factory=dict)  # id -> user id
    logs: dict[str, int] = field(default_factory=dict)  # session id -> entries sent
    checkins: set[str] = field(default_factory=set)
    uploads: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # key -> ...
    patches: Counter[str] = field(default_factory=Counter)
    unacknowledged: set[str] = field(default_factory=set)


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
            if again is not None and again.status == 200:
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


# --- the report --------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def endpoint_table(stats: Stats, span: float) -> list[str]:
    lines = [
        f"{'endpoint':28} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'conn err':>8}  statuses"
    ]
    total = 0
    for label in sorted(stats.endpoints):
        e = stats.endpoints[label]
        count = sum(e.statuses.values())
        total += count
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(e.statuses.items()))
        lines.append(
            f"{label:28} {count:9d} {count / span:8.1f} {pct(e.latencies, 0.5):8.1f} "
            f"{pct(e.latencies, 0.99):8.1f} {pct(e.latencies, 1.0):8.1f} "
            f"{e.connection_errors:8d}  {statuses}"
        )
    lines.append(f"{'all':28} {total:9d} {total / span:8.1f}")
    return lines


def error_summary(
    stats: Stats, allowed: dict[str, set[int]] | None = None
) -> tuple[Counter[int], int]:
    """Unexpected statuses by code, and the 5xx among them (`allowed`: more expected
    statuses per endpoint, `*` for all)."""
    allowed = allowed or {}
    errors: Counter[int] = Counter()
    for label, e in stats.endpoints.items():
        ok = EXPECTED.get(label, {200}) | allowed.get(label, set()) | allowed.get("*", set())
        for status, n in e.statuses.items():
            if status not in ok:
                errors[status] += n
    return errors, sum(n for s, n in errors.items() if s >= 500)


@dataclass
class Check:
    name: str
    expected: int
    found: int
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def reconcile(conninfo: str, ledger: Ledger, user_ids: list[str]) -> list[Check]:
    """Every acknowledged write is stored exactly once and whole; nothing half-written."""
    checks: list[Check] = []
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:

        def one(sql: str, *params: object) -> int:
            cur.execute(sql, params)
            row = cur.fetchone()
            return int(row[0]) if row else 0

        acked = list(ledger.sessions)
        checks.append(Check(
            "sessions: acknowledged ids stored",
            len(acked), one("SELECT count(*) FROM sessions WHERE id = ANY(%s::uuid[])", acked),
        ))  # fmt: skip
        cur.execute("SELECT id::text FROM sessions WHERE user_id = ANY(%s::uuid[])", (user_ids,))
        stored = {r[0] for r in cur.fetchall()}
        stray = stored - set(acked) - ledger.unacknowledged
        checks.append(Check(
            "sessions: stored but never sent/acknowledged", 0, len(stray),
            f"{len(stored - set(acked))} stored for requests whose answer was lost",
        ))  # fmt: skip

        cur.execute(
            "SELECT l.session_id::text, json_array_length(l.entries::json), s.status "
            "FROM session_logs l JOIN sessions s ON s.id = l.session_id "
            "WHERE l.session_id = ANY(%s::uuid[])",
            (list(ledger.logs),),
        )
        logs = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        whole = sum(
            1
            for sid, n in ledger.logs.items()
            if sid in logs and logs[sid][0] == n and logs[sid][1] == "completed"
        )
        checks.append(Check(
            "logs: acknowledged, with every entry, session completed", len(ledger.logs), whole,
        ))  # fmt: skip
        checks.append(Check(
            "logs: completed sessions without a log, or logs of planned sessions", 0,
            one(
                "SELECT count(*) FROM sessions s LEFT JOIN session_logs l ON l.session_id = s.id "
                "WHERE s.user_id = ANY(%s::uuid[]) "
                "AND ((s.status = 'completed') <> (l.session_id IS NOT NULL))",
                user_ids,
            ),
        ))  # fmt: skip
        checks.append(Check(
            "logs: stored with no entries", 0,
            one(
                "SELECT count(*) FROM session_logs WHERE user_id = ANY(%s::uuid[]) "
                "AND json_array_length(entries::json) = 0",
                user_ids,
            ),
        ))  # fmt: skip

        checkins = list(ledger.checkins)
        checks.append(Check(
            "check-ins: acknowledged ids stored", len(checkins),
            one("SELECT count(*) FROM checkins WHERE id = ANY(%s::uuid[])", checkins),
        ))  # fmt: skip
        cur.execute("SELECT id::text FROM checkins WHERE user_id = ANY(%s::uuid[])", (user_ids,))
        stray = {r[0] for r in cur.fetchall()} - ledger.checkins - ledger.unacknowledged
        checks.append(Check("check-ins: stored but never sent/acknowledged", 0, len(stray)))

        keys = list(ledger.uploads)
        cur.execute(
            "SELECT k.key, k.in_flight, k.response_status, k.response_body::json->>'id', "
            "u.device_session_id, u.sample_count, length(u.heart_rate) "
            "FROM idempotency_keys k LEFT JOIN wearable_uploads u "
            "ON u.id::text = k.response_body::json->>'id' "
            "WHERE k.key = ANY(%s)",
            (keys,),
        )
        rows = {r[0]: r[1:] for r in cur.fetchall()}
        complete = 0
        for key, (_device, dsid, samples) in ledger.uploads.items():
            row = rows.get(key)
            if row is None:
                continue
            in_flight, status, _id, stored_dsid, count, size = row
            if not in_flight and status == 201 and stored_dsid == dsid and count == samples:
                complete += int(bool(size))
        checks.append(Check(
            "uploads: acknowledged keys answered, recording stored with every sample",
            len(keys), complete,
        ))  # fmt: skip
        dsids = [v[1] for v in ledger.uploads.values()]
        checks.append(Check(
            "uploads: rows for acknowledged recordings (one each)",
            len(dsids),
            one("SELECT count(*) FROM wearable_uploads WHERE device_session_id = ANY(%s)", dsids),
        ))  # fmt: skip
        checks.append(Check(
            "uploads: recordings without samples", 0,
            one(
                "SELECT count(*) FROM wearable_uploads WHERE user_id = ANY(%s::uuid[]) "
                "AND (sample_count = 0 OR length(heart_rate) = 0)",
                user_ids,
            ),
        ))  # fmt: skip
        cur.execute(
            "SELECT k.key FROM idempotency_keys k JOIN devices d ON d.id = k.device_id "
            "WHERE d.user_id = ANY(%s::uuid[])",
            (user_ids,),
        )
        stray = {r[0] for r in cur.fetchall()} - set(keys) - ledger.unacknowledged
        checks.append(Check("uploads: keys stored but never sent/acknowledged", 0, len(stray)))
        cur.execute("SELECT key FROM idempotency_keys WHERE in_flight")
        in_flight = {r[0] for r in cur.fetchall()}
        checks.append(Check(
            "uploads: keys left in flight (other than given-up requests)", 0,
            len(in_flight - ledger.unacknowledged),
            f"{len(in_flight)} in flight in all",
        ))  # fmt: skip

        cur.execute(
            "SELECT e.slug, count(*) FROM exercise_revisions r "
            "JOIN exercises e ON e.id = r.exercise_id WHERE r.source = 'api' GROUP BY e.slug"
        )
        revisions: dict[str, int] = {str(slug): int(n) for slug, n in cur.fetchall()}
        checks.append(Check(
            "admin edits: acknowledged PATCHes = revisions",
            sum(ledger.patches.values()), sum(revisions.values()),
            "per exercise: " + ("same" if dict(ledger.patches) == revisions else "DIFFERENT"),
        ))  # fmt: skip
    return checks


def reconciliation_table(checks: list[Check]) -> list[str]:
    lines = [f"{'check':74} {'expected':>8} {'found':>8}  result"]
    for c in checks:
        note = f"  ({c.detail})" if c.detail else ""
        lines.append(
            f"{c.name:74} {c.expected:8d} {c.found:8d}  {'ok' if c.ok else 'MISMATCH'}{note}"
        )
    return lines
