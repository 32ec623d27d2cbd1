"""Every GET is read-only.

Realistic data is built over HTTP (a person with check-ins over several days, a before/
after pair around a logged session, a red flag resolved by their clinician, a wearable
upload, clinician plans; a second patient of the same clinician who has not logged for
over a week; an admin's catalog edits). Then every table in the database is snapshotted
(row count and a digest of every row, every column), every GET route of the app's route
table is called, several times, by every caller it serves, with real ids, query variants,
conditional requests and page after page, at two different times (at once, and 9 days
later); and after each route the database must be exactly what it was. When a route did
write, the failure names it with the tables and rows it changed, and the database is put
back before the next route, so that every route that writes is named, not only the first.

The GET routes come from the app itself, so a GET route added later is called too: it
must be given real path values below (or a reason in SKIP), or this test fails.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, MetaData, Table, and_, delete, insert, inspect, select, update

from api.db import metadata
from tests.api.test_ownership import World, new_world
from tests.api.test_route_auth import operations
from tests.conftest import Account, AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")

# GET routes that cannot be called meaningfully, with the reason. Keep it short.
SKIP: dict[str, str] = {}

# Columns allowed to change when something is only read: none. A "last seen" or
# throttle column written on GET would be a finding to report, not to list here.
VOLATILE_COLUMNS: dict[str, set[str]] = {}

# When each pass of calls happens, after the data is built: at once, and 9 days later
# (every next check-in overdue, evidence stale, every patient inactive).
PASSES: list[dict[str, float]] = [{}, {"days": 9}]
PAGES = 4  # how many pages of each list to follow with limit=1
# Tables the data set must fill, so a GET has something to write over (or next to).
FILLED = [
    *("users", "refresh_tokens", "devices", "checkins", "advice", "user_thresholds"),
    *("clinician_invitations", "clinician_links", "clinician_plans", "alerts"),
    *("clinician_actions", "routine_items", "sessions", "session_logs", "exercises"),
    *("exercise_revisions", "wearable_uploads", "idempotency_keys", "outcomes"),
]

Who = Account | None  # None: no credentials


@dataclass
class Call:
    who: Who
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Data:
    w: World
    patient2: Account  # the clinician's other patient; last logged 10 days ago
    newcomer: Account  # the clinician's newest patient: linked today, nothing else yet
    idle_clinician: Account  # a clinician with no patients
    checkins: dict[str, list[str]]  # account id -> check-in ids
    sessions: dict[str, list[str]]  # account id -> session ids (logged and planned)
    outcomes: dict[str, list[str]]  # account id -> outcome ids
    edited_slug: str
    since: str  # a moment inside the person's history, for `since=` queries


# -- building the data, all over HTTP ---------------------------------------------------


def _log(w: World, who: Account, session: dict[str, Any], pain: int = 2) -> dict[str, Any]:
    url = f"/v1/sessions/{session['id']}/log"
    return dict(w.ok(w.client.put(url, headers=who.headers, json=w.log_body(session, pain))))


def _edit_exercise(w: World, slug: str, **changes: Any) -> None:
    etag = w.client.get(f"/v1/exercises/{slug}").headers["etag"]
    headers = {**w.admin.headers, "If-Match": etag}
    w.ok(w.client.patch(f"/v1/exercises/{slug}", headers=headers, json=changes))


def build(client: TestClient, clock: FakeClock, make_account: AccountFactory) -> Data:
    w = new_world(client, clock, make_account)
    person, clinician, patient2 = w.owner, w.clinician, w.stranger
    # Every account now: access tokens are checked against the real time, and one issued
    # after the test clock has moved on would not be valid yet.
    idle_clinician = make_account("clinician")
    newcomer = make_account()
    checkins: dict[str, list[str]] = {person.id: [], patient2.id: []}
    sessions: dict[str, list[str]] = {person.id: [], patient2.id: []}

    def checkin(who: Account, **fields: Any) -> dict[str, Any]:
        made = w.checkin(who, **fields)
        checkins[who.id].append(made["checkin"]["id"])
        return made

    outcomes: dict[str, list[str]] = {person.id: [], patient2.id: []}

    def outcome(who: Account, instrument: str, answers: dict[str, Any]) -> None:
        body = {"recorded_at": clock.now.isoformat(), "instrument": instrument, "answers": answers}
        made = w.ok(client.post("/v1/outcomes", headers=who.headers, json=body), 201)
        outcomes[who.id].append(made["outcome"]["id"])

    def session(who: Account) -> dict[str, Any]:
        made = w.build(who)
        sessions[who.id].append(made["id"])
        return made

    # Day -10: the second patient links, trains once, and is never heard from again.
    w.ok(
        client.patch(
            "/v1/me", headers=patient2.headers, json={"equipment": ["mat"], "timezone": "UTC"}
        )
    )
    w.link(patient2, clinician)
    checkin(patient2, pain=4, locations=["lower-back"])
    outcome(patient2, "nrs-weekly", {"pain": 5})
    first = session(patient2)
    _log(w, patient2, first, pain=3)
    checkin(patient2, phase="next_morning", pain=5, session_id=first["id"])

    clock.advance(days=8)

    # Day -2: the person sets up, checks in at rest, trains with a before/after pair, and
    # their watch uploads the session.
    profile = {
        "display_name": "Sam",
        "equipment": ["mat", "chair", "resistance-band"],
        "session_minutes": 25,
        "timezone": "America/New_York",
    }
    w.ok(client.patch("/v1/me", headers=person.headers, json=profile))
    w.link(person, clinician)
    checkin(person, pain=3, locations=["lower-back"], note="stiff in the morning")
    # A high-risk STarT Back (a clinician's alert) and a first ODI.
    outcome(person, "startback", {f"q{n}": 1 for n in range(1, 9)} | {"q9": 4})
    odi = dict.fromkeys(("pain_intensity", "personal_care", "lifting", "walking"), 2)
    odi |= dict.fromkeys(("sitting", "standing", "sleeping", "social_life", "travelling"), 3)
    outcome(person, "odi", odi)
    trained = session(person)
    checkin(person, phase="before", pain=2, session_id=trained["id"])
    clock.advance(minutes=25)
    _log(w, person, trained, pain=2)
    checkin(person, phase="after", pain=3, session_id=trained["id"])
    _device, device_headers = w.device(person)
    w.ok(w.upload(device_headers, session_id=trained["id"]), 201)
    w.ok(w.upload(device_headers), 201)  # one the server matches (or not) by itself
    since = clock.now.isoformat()

    # Day -1: rest pain again; a red flag, acknowledged and resolved by the clinician,
    # who then tunes the plan and the thresholds.
    clock.advance(days=1)
    checkin(person, pain=2)
    checkin(person, pain=6, red_flags={"saddle_numbness": True})
    alert = next(a for a in w.get(clinician, "/v1/alerts")["items"] if a["patient_id"] == person.id)
    w.ok(client.post(f"/v1/alerts/{alert['id']}/ack", headers=clinician.headers))
    w.ok(client.post(f"/v1/patients/{person.id}/red-flags/resolve", headers=clinician.headers))
    main = [i["exercise_slug"] for i in trained["items"] if i["block"] != "warmup"]
    plan = {"cleared": main, "caps": {main[0]: {"sets": 2}}}
    w.ok(client.put(f"/v1/patients/{person.id}/routine", headers=clinician.headers, json=plan))
    limits = {"during_pain_max": 4, "during_pain_safe_max": 2}
    w.ok(client.put(f"/v1/patients/{person.id}/thresholds", headers=clinician.headers, json=limits))

    # Day 0: better; the person says they have been seen, and plans the next session,
    # which an admin's catalog edits touch.
    clock.advance(days=1)
    checkin(person, pain=1, red_flags_resolved=True)
    outcome(person, "odi", odi | {"lifting": 1, "sex_life": None})
    session(person)
    edited = main[0]
    _edit_exercise(w, edited, name="Edited Name")
    _edit_exercise(w, edited, summary="Edited again, so it has two revisions.")
    w.link(newcomer, clinician)

    return Data(
        w=w,
        patient2=patient2,
        newcomer=newcomer,
        idle_clinician=idle_clinician,
        checkins=checkins,
        sessions=sessions,
        outcomes=outcomes,
        edited_slug=edited,
        since=since,
    )


# -- what each GET route is called with --------------------------------------------------


def callers(kind: str | None, d: Data) -> list[Who]:
    """Everyone a route serves: a person's routes are everyone's (each gets their own)."""
    w = d.w
    if kind is None:
        return [None, w.owner]
    if kind == "user":
        return [w.owner, d.patient2, d.newcomer, w.clinician, w.admin]
    if kind == "clinician":
        return [w.clinician, d.idle_clinician]
    if kind == "admin":
        return [w.admin]
    raise AssertionError(f"no GET caller of kind {kind!r}: add one")


def with_ids(path: str, d: Data) -> list[Call] | None:
    """Calls for routes with path parameters, with ids of real objects; None if unknown."""
    w, p2 = d.w, d.patient2
    table: dict[str, list[Call]] = {
        "/v1/checkins/{checkin_id}": [
            Call(who, f"/v1/checkins/{i}") for who in (w.owner, p2) for i in d.checkins[who.id]
        ],
        "/v1/outcomes/{outcome_id}": [
            Call(who, f"/v1/outcomes/{i}") for who in (w.owner, p2) for i in d.outcomes[who.id]
        ],
        "/v1/sessions/{session_id}": [
            Call(who, f"/v1/sessions/{i}") for who in (w.owner, p2) for i in d.sessions[who.id]
        ],
        "/v1/patients/{patient_id}/summary": [
            Call(w.clinician, f"/v1/patients/{who.id}/summary") for who in (w.owner, p2, d.newcomer)
        ],
        "/v1/patients/{patient_id}/fhir": [
            Call(w.clinician, f"/v1/patients/{who.id}/fhir") for who in (w.owner, p2, d.newcomer)
        ],
        "/v1/exercises/{slug}": [
            Call(who, f"/v1/exercises/{slug}")
            for who in (None, w.admin)
            for slug in (d.edited_slug, "warm-up")
        ],
        "/v1/exercises/{slug}/revisions": [
            Call(w.admin, f"/v1/exercises/{slug}/revisions") for slug in (d.edited_slug, "superman")
        ],
        "/problems/{slug}": [
            Call(None, f"/problems/{slug}")
            for slug in ("not-found", "validation-error", "exercise-blocked")
        ],
    }
    return table.get(path)


def queries(path: str, d: Data) -> list[dict[str, Any]]:
    """Query variants for a route, besides none."""
    table: dict[str, list[dict[str, Any]]] = {
        "/v1/checkins": [{"since": d.since}],
        "/v1/outcomes": [{"since": d.since}, {"instrument": "odi"}],
        "/v1/me/fhir": [{"_since": d.since}, {"_count": 1}],
        "/v1/sessions": [{"status": "planned"}, {"status": "completed"}, {"since": d.since}],
        "/v1/me/uploads": [{"matched": "true"}, {"matched": "false"}],
        "/v1/progress": [{"days": 1}, {"days": 365}],
        "/v1/exercises": [
            {"q": "back"},
            {"category": "strength", "max_difficulty": 2},
            {"equipment": ["mat", "chair"]},
            {"muscle": "core"},
            {"include_archived": "true"},
        ],
    }
    return [{}, *table.get(path, [])]


def plan(path: str, kind: str | None, d: Data, *, variants: bool) -> list[Call]:
    """Every caller, every real id; with `variants`, every query variant too."""
    if "{" in path:
        calls = with_ids(path, d)
        assert calls, f"GET {path}: give it real path values in with_ids() or a reason in SKIP"
        return calls
    return [
        Call(who, f"{path}?{urlencode(q, doseq=True)}" if q else path)
        for who in callers(kind, d)
        for q in (queries(path, d) if variants else [{}])
    ]


def headers_of(who: Who) -> dict[str, str]:
    return {} if who is None else who.headers


def send(client: TestClient, call: Call, expect: int = 200) -> Any:
    response = client.get(call.url, headers={**headers_of(call.who), **call.headers})
    who = "anonymous" if call.who is None else call.who.email
    assert response.status_code == expect, f"GET {call.url} as {who}: {response.text[:500]}"
    return response


def _with_query(url: str, **params: Any) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def exercise(client: TestClient, call: Call, *, pages: bool) -> None:
    """The call, then its conditional repeat (if it has an ETag) and, with `pages`, its
    pages one item at a time (a list without a query only)."""
    response = send(client, call)
    if etag := response.headers.get("etag"):
        send(client, Call(call.who, call.url, {**call.headers, "If-None-Match": etag}), 304)
    is_json = response.headers.get("content-type", "").startswith("application/json")
    body = response.json() if is_json else None
    if not (pages and "?" not in call.url and isinstance(body, dict) and "next_cursor" in body):
        return
    url = _with_query(call.url, limit=1)
    page = send(client, Call(call.who, url, call.headers)).json()
    for _ in range(PAGES):
        if not page["next_cursor"]:
            break
        next_url = _with_query(url, cursor=page["next_cursor"])
        page = send(client, Call(call.who, next_url, call.headers)).json()


# -- the database, every table, every column ---------------------------------------------


@dataclass
class TableState:
    count: int
    digest: str
    rows: Counter[str]  # each row as canonical JSON
    by_key: dict[tuple[Any, ...], dict[str, Any]]  # primary key -> the row as read


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return repr(value)


def all_tables(engine: Engine) -> list[Table]:
    """Every table in the database: the app's, parents first, then any other (alembic's)."""
    in_db = set(inspect(engine).get_table_names())
    known = {t.name: t for t in metadata.sorted_tables}
    assert set(known) <= in_db, f"tables missing from the database: {set(known) - in_db}"
    reflected = MetaData()
    others = [Table(name, reflected, autoload_with=engine) for name in sorted(in_db - set(known))]
    tables = [*known.values(), *others]
    keyless = [t.name for t in tables if not t.primary_key.columns]
    assert not keyless, f"tables without a primary key: {keyless}"
    return tables


def snapshot(engine: Engine, tables: list[Table]) -> dict[str, TableState]:
    states = {}
    with engine.connect() as conn:
        for table in tables:
            skip = VOLATILE_COLUMNS.get(table.name, set())
            key = [c.name for c in table.primary_key.columns]
            rows: Counter[str] = Counter()
            by_key = {}
            for row in conn.execute(select(table)):
                values = dict(row._mapping)
                by_key[tuple(values[k] for k in key)] = values
                kept = {k: v for k, v in values.items() if k not in skip}
                rows[json.dumps(kept, default=_plain, sort_keys=True)] += 1
            digest = hashlib.sha256("\n".join(sorted(rows.elements())).encode()).hexdigest()
            states[table.name] = TableState(sum(rows.values()), digest, rows, by_key)
    return states


def changes(
    before: dict[str, TableState], after: dict[str, TableState], samples: int = 2
) -> list[str]:
    """One line per changed table (counts, rows added and removed; an updated row is one
    of each), then up to `samples` of the rows that differ."""
    out = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old is None or new is None:
            out.append(f"{name}: table {'created' if old is None else 'dropped'}")
            continue
        if old.digest == new.digest:
            continue
        added = list((new.rows - old.rows).elements())
        removed = list((old.rows - new.rows).elements())
        out.append(f"{name}: {old.count} -> {new.count} rows, +{len(added)} -{len(removed)}")
        out += [f"      + {r[:300]}" for r in added[:samples]]
        out += [f"      - {r[:300]}" for r in removed[:samples]]
    return out


def restore(engine: Engine, tables: list[Table], target: dict[str, TableState]) -> None:
    """Put back the rows of `target` (by primary key), so the next route is judged on the
    same database: otherwise the first GET that writes hides every later one that would
    write the same rows. Deletes go children first, inserts and updates parents first."""
    current = snapshot(engine, tables)
    changed = [t for t in tables if current[t.name].digest != target[t.name].digest]
    key_of = {t.name: [c.name for c in t.primary_key.columns] for t in changed}

    def where(table: Table, key: tuple[Any, ...]) -> Any:
        return and_(*(table.c[k] == v for k, v in zip(key_of[table.name], key, strict=True)))

    with engine.begin() as conn:
        for table in reversed(changed):
            for key in current[table.name].by_key.keys() - target[table.name].by_key.keys():
                conn.execute(delete(table).where(where(table, key)))
        for table in changed:
            now, then = current[table.name].by_key, target[table.name].by_key
            for key, row in then.items():
                if key not in now:
                    conn.execute(insert(table).values(**row))
                elif now[key] != row:
                    conn.execute(update(table).where(where(table, key)).values(**row))


# -- the tests ---------------------------------------------------------------------------


def get_routes(app: FastAPI) -> dict[str, str | None]:
    """GET path -> the caller kind it demands (None: public)."""
    return {path: caller for method, path, caller in operations(app) if method == "GET"}


def test_skip_list_is_current(app: FastAPI) -> None:
    routes = get_routes(app)
    assert len(routes) > 20, sorted(routes)
    stale = set(SKIP) - set(routes)
    assert not stale, f"no longer GET routes, drop them from SKIP: {sorted(stale)}"


@pytest.fixture
def data(client: TestClient, clock: FakeClock, make_account: AccountFactory) -> Data:
    return build(client, clock, make_account)


def test_every_get_is_read_only(app: FastAPI, client: TestClient, db: Engine, data: Data) -> None:
    routes = {p: k for p, k in get_routes(app).items() if p not in SKIP}
    tables = all_tables(db)
    assert len(tables) > 15, [t.name for t in tables]
    first = snapshot(db, tables)
    # The data really is there, so there is something for a GET to write over.
    empty = sorted(name for name in FILLED if first[name].count == 0)
    assert not empty, f"the data set left these tables empty: {empty}"
    assert sum(s.count for s in first.values()) > 50

    # route -> table -> (the passes it was written in, what the first write did)
    writes: dict[str, dict[str, tuple[list[str], list[str]]]] = {}
    called: set[str] = set()
    for n, when in enumerate(PASSES):
        data.w.clock.advance(**when)
        label = f"+{when['days']} day(s)" if when else "at once"
        for path, kind in routes.items():
            # Query variants and pages once; every caller and every id in each pass.
            for call in plan(path, kind, data, variants=n == 0):
                exercise(client, call, pages=n == 0)
            called.add(path)
            after = snapshot(db, tables)
            diff = changes(first, after)
            if not diff:
                continue
            keep = False  # the sample rows of a table's first write only
            for line in diff:
                if not line.startswith(" "):
                    table = line.split(":")[0]
                    passes, detail = writes.setdefault(path, {}).setdefault(table, ([], []))
                    passes.append(label)
                    keep = not detail
                if keep:
                    detail.append(line)
            restore(db, tables, first)
            assert not changes(first, snapshot(db, tables)), "could not restore the database"

    assert called == set(routes), f"GET routes not called: {sorted(set(routes) - called)}"
    report = []
    for path, tables_written in writes.items():
        report.append(f"GET {path} wrote {', '.join(tables_written)}")
        for passes, detail in tables_written.values():
            report.append(f"    {detail[0]}    [{', '.join(passes)}]")
            report += [f"    {line}" for line in detail[1:]]
    if writes:
        pytest.fail(
            f"{len(writes)} GET route(s) changed the database:\n"
            + "\n".join(report)
            + "\n\ntables written: "
            + ", ".join(sorted({t for w in writes.values() for t in w})),
            pytrace=False,
        )
    # The later pass did reach the time-dependent paths: a patient gone quiet shows up.
    quiet = {
        (a["patient_id"], a["kind"]) for a in data.w.get(data.w.clinician, "/v1/alerts")["items"]
    }
    assert (data.patient2.id, "inactive") in quiet, quiet


def test_snapshot_sees_any_change_and_restore_undoes_it(db: Engine, data: Data) -> None:
    """The snapshot is not blind (one column of one row updated, a row added, a row
    removed all show up), and restore() puts back exactly what was there."""
    tables = all_tables(db)
    by_name = {t.name: t for t in tables}
    before = snapshot(db, tables)
    users, failures, tokens = by_name["users"], by_name["login_failures"], by_name["refresh_tokens"]
    owner = uuid.UUID(data.w.owner.id)
    with db.begin() as conn:
        conn.execute(update(users).where(users.c.id == owner).values(display_name="Changed"))
        conn.execute(insert(failures).values(key="k", failed_at=data.w.clock.now))
        conn.execute(delete(tokens).where(tokens.c.user_id == owner))
    diff = [line for line in changes(before, snapshot(db, tables)) if not line.startswith(" ")]
    n = {name: before[name].count for name in ("login_failures", "refresh_tokens", "users")}
    assert diff == [
        f"login_failures: {n['login_failures']} -> {n['login_failures'] + 1} rows, +1 -0",
        f"refresh_tokens: {n['refresh_tokens']} -> {n['refresh_tokens'] - 1} rows, +0 -1",
        f"users: {n['users']} -> {n['users']} rows, +1 -1",
    ]
    restore(db, tables, before)
    assert changes(before, snapshot(db, tables)) == []
    assert data.w.get(data.w.owner, "/v1/me")["display_name"] == "Sam"
