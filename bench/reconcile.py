"""Whether every write a client was told was stored is in the database exactly once and
whole, with nothing half-written: the same checks on PostgreSQL and on SQLite.

Rows are read through the app's own table definitions, so ids, booleans and JSON come
back as the same Python values from both (SQLite keeps a UUID as 32 hex digits, and JSON
as text), and the comparing happens here. Each run has a fresh database of its own, so
reading whole tables is cheap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, create_engine, func, select

import api.models  # noqa: F401  (registers every table in the metadata)
from api.db import metadata
from bench.records import Ledger
from bench.stack import sqlalchemy_url


@dataclass
class Check:
    name: str
    expected: int
    found: int
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def _id(value: Any) -> str:
    """One spelling for a UUID, whichever way it was stored or sent."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


@dataclass
class Stored:
    sessions: dict[str, tuple[str, str]]  # id -> (user id, status)
    logs: dict[str, tuple[str, int]]  # session id -> (user id, entries)
    checkins: dict[str, str]  # id -> user id
    # id -> (user id, device session id, sample count, heart-rate bytes)
    uploads: dict[str, tuple[str, str, int, int]]
    # key -> (device id, in flight, status, upload id answered)
    keys: dict[str, tuple[str, bool, int | None, str | None]]
    devices: dict[str, str]  # id -> user id
    revisions: dict[str, int]  # exercise slug -> revisions made through the API

    @classmethod
    def load(cls, conn: Connection) -> Stored:
        t = metadata.tables
        s, log, c = t["sessions"], t["session_logs"], t["checkins"]
        w, k, d = t["wearable_uploads"], t["idempotency_keys"], t["devices"]
        r, e = t["exercise_revisions"], t["exercises"]
        keys = {}
        for key, device, in_flight, status, body in conn.execute(
            select(k.c.key, k.c.device_id, k.c.in_flight, k.c.response_status, k.c.response_body)
        ):
            answered = body.get("id") if isinstance(body, dict) else None
            keys[key] = (_id(device), bool(in_flight), status, _id(answered) if answered else None)
        return cls(
            sessions={
                _id(i): (_id(u), status)
                for i, u, status in conn.execute(select(s.c.id, s.c.user_id, s.c.status))
            },
            logs={
                _id(i): (_id(u), len(entries))
                for i, u, entries in conn.execute(
                    select(log.c.session_id, log.c.user_id, log.c.entries)
                )
            },
            checkins={_id(i): _id(u) for i, u in conn.execute(select(c.c.id, c.c.user_id))},
            uploads={
                _id(i): (_id(u), dsid, count, size or 0)
                for i, u, dsid, count, size in conn.execute(
                    select(
                        w.c.id,
                        w.c.user_id,
                        w.c.device_session_id,
                        w.c.sample_count,
                        func.length(w.c.heart_rate),
                    )  # fmt: skip
                )
            },
            keys=keys,
            devices={_id(i): _id(u) for i, u in conn.execute(select(d.c.id, d.c.user_id))},
            revisions={
                str(slug): int(n)
                for slug, n in conn.execute(
                    select(e.c.slug, func.count())
                    .select_from(r.join(e, e.c.id == r.c.exercise_id))
                    .where(r.c.source == "api")
                    .group_by(e.c.slug)
                )
            },
        )


def reconcile(db_url: str, ledger: Ledger, user_ids: list[str]) -> list[Check]:
    """Every acknowledged write is stored exactly once and whole; nothing half-written.

    `db_url`: a libpq URL (postgresql://) or a SQLAlchemy one (sqlite:///...).
    """
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        with engine.connect() as conn:
            stored = Stored.load(conn)
    finally:
        engine.dispose()
    users = {_id(u) for u in user_ids}
    lost = ledger.unacknowledged
    checks: list[Check] = []

    acked = set(ledger.sessions)
    theirs = {i for i, (u, _) in stored.sessions.items() if u in users}
    checks.append(Check(
        "sessions: acknowledged ids stored", len(acked), len(acked & stored.sessions.keys()),
    ))  # fmt: skip
    checks.append(Check(
        "sessions: stored but never sent/acknowledged", 0, len(theirs - acked - lost),
        f"{len(theirs - acked)} stored for requests whose answer was lost",
    ))  # fmt: skip

    whole = sum(
        1
        for sid, n in ledger.logs.items()
        if sid in stored.logs
        and stored.logs[sid][1] == n
        and stored.sessions.get(sid, ("", ""))[1] == "completed"
    )
    checks.append(Check(
        "logs: acknowledged, with every entry, session completed", len(ledger.logs), whole,
    ))  # fmt: skip
    checks.append(Check(
        "logs: completed sessions without a log, or logs of planned sessions", 0,
        sum(
            1
            for sid in theirs
            if (stored.sessions[sid][1] == "completed") != (sid in stored.logs)
        ),
    ))  # fmt: skip
    checks.append(Check(
        "logs: stored with no entries", 0,
        sum(1 for u, n in stored.logs.values() if u in users and n == 0),
    ))  # fmt: skip

    checks.append(Check(
        "check-ins: acknowledged ids stored", len(ledger.checkins),
        len(ledger.checkins & stored.checkins.keys()),
    ))  # fmt: skip
    theirs = {i for i, u in stored.checkins.items() if u in users}
    checks.append(Check(
        "check-ins: stored but never sent/acknowledged", 0,
        len(theirs - ledger.checkins - lost),
    ))  # fmt: skip

    complete = 0
    for key, (_device, dsid, samples) in ledger.uploads.items():
        if key not in stored.keys:
            continue
        _, in_flight, status, upload_id = stored.keys[key]
        upload = stored.uploads.get(upload_id or "")
        if (
            not in_flight
            and status == 201
            and upload is not None
            and upload[1:3] == (dsid, samples)
            and upload[3] > 0
        ):
            complete += 1
    checks.append(Check(
        "uploads: acknowledged keys answered, recording stored with every sample",
        len(ledger.uploads), complete,
    ))  # fmt: skip
    dsids = {v[1] for v in ledger.uploads.values()}
    checks.append(Check(
        "uploads: rows for acknowledged recordings (one each)", len(ledger.uploads),
        sum(1 for _, dsid, _, _ in stored.uploads.values() if dsid in dsids),
    ))  # fmt: skip
    checks.append(Check(
        "uploads: recordings without samples", 0,
        sum(1 for u, _, n, size in stored.uploads.values() if u in users and not (n and size)),
    ))  # fmt: skip
    theirs = {key for key, row in stored.keys.items() if stored.devices.get(row[0]) in users}
    checks.append(Check(
        "uploads: keys stored but never sent/acknowledged", 0,
        len(theirs - ledger.uploads.keys() - lost),
    ))  # fmt: skip
    flying = {key for key, row in stored.keys.items() if row[1]}
    checks.append(Check(
        "uploads: keys left in flight (other than given-up requests)", 0,
        len(flying - lost), f"{len(flying)} in flight in all",
    ))  # fmt: skip

    checks.append(Check(
        "admin edits: acknowledged PATCHes = revisions",
        sum(ledger.patches.values()), sum(stored.revisions.values()),
        "per exercise: " + ("same" if dict(ledger.patches) == stored.revisions else "DIFFERENT"),
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
