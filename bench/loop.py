"""The daily loop against its floor (issue 16): ``python -m bench.loop``.

``[--seconds 5] [--connections 16] [--database sqlite|postgres|both]``
``[--postgres-url postgresql://postgres@127.0.0.1:5432/postgres]``

Per database (a temporary SQLite file; on PostgreSQL a fresh database, dropped
afterwards), migrated and seeded: one account per loop step, each with 60 days of
history made straight in the database (two check-ins a day, a logged session every
other day), then the real app (``api.main:app``) and the floor (``bench.floor:app``) are
served the same way (uvicorn, one worker, pinned to one core, production defaults with
the access log on) and driven from the other core. Each step is printed with its req/s,
p50, p99, non-2xx answers and its req/s as a ratio of the floor's (goal: at least 0.5x).

One account per step, so that what one step writes (a thousand check-ins in a few
seconds) does not become the history another step reads; write steps and the floor
spread over ``--people`` accounts (default 16), one per connection in turn, so that no
person's writes queue behind each other or pile up into one history: every step
measures people with 60 days of history. Writes carry a fresh client id per request
(bench/loadgen.py ``--body-template``), and each log goes to a different planned
session (``--paths-file``): a repeated id or log would measure the replay path instead.
GET steps use wrk when it is installed; each step is compared with the floor driven by
the same generator.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert
from sqlmodel import Session

from api.config import Settings
from api.db import make_engine
from api.models import CheckInRow, SessionLogRow, TrainingSession, User
from api.schemas.logs import LogEntryIn
from api.security import Passwords
from bench import stack
from bench.__main__ import (
    ACCOUNT_PASSWORD,
    LOAD_CORES,
    PY,
    ROOT,
    SERVER_CORES,
    SESSION_BODY,
    _parse_wrk,
    _pin,
    _request,
    prepare_database,
    serve,
    sign_in,
)
from bench.floor import FLOOR_PATH
from bench.people import all_clear_screening

HISTORY_DAYS = 60  # the issue measured one client with 60 days of history
CHECKIN_HOURS = (8, 20)  # two check-ins a day
LOG_EVERY_DAYS = 2  # a logged session every other day
GOAL = 0.5  # each loop step at least half the floor's req/s (issue 16)
JSON = {"Content-Type": "application/json"}
CHECKIN_TEMPLATE = '{"id": "{uuid}", "recorded_at": "{now}", "phase": "daily", "pain": 2}'
SESSION_TEMPLATE = '{"id": "{uuid}", ' + SESSION_BODY[1:]


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str
    account: str
    expect: int  # any other status is flagged
    template: str = ""  # a body made per request ({uuid}, {now})
    pool: bool = False  # one planned session per request (the log PUT)
    spread: bool = False  # writes spread over --people accounts, one per connection


def people_of(step: Step, people: int) -> list[str]:
    """The accounts a step sends as: one, or `people` for a write step."""
    if not step.spread or people <= 1:
        return [step.account]
    return [f"{step.account}-{i}" for i in range(people)]


STEPS = [
    Step("POST /v1/checkins", "POST", "/v1/checkins", "loop-checkins", 201, CHECKIN_TEMPLATE,
         spread=True),
    Step("GET /v1/advice", "GET", "/v1/advice", "loop-advice", 200),
    Step("GET /v1/routine", "GET", "/v1/routine", "loop-routine", 200),
    Step("POST /v1/sessions", "POST", "/v1/sessions", "loop-build", 201, SESSION_TEMPLATE,
         spread=True),
    Step("PUT /v1/sessions/{id}/log", "PUT", "/v1/sessions/{id}/log", "loop-log", 200, pool=True,
         spread=True),
]  # fmt: skip
FLOOR = Step(f"POST {FLOOR_PATH} (floor)", "POST", FLOOR_PATH, "loop-floor", 201, spread=True)
ACCOUNTS = [s.account for s in [*STEPS, FLOOR]]  # with --people 1
WRK = shutil.which("wrk")
LOADGEN = "loadgen"


# --- the database: accounts with history -------------------------------------------------


@contextmanager
def setup_engine(url: str) -> Iterator[Engine]:
    engine = make_engine(Settings(_env_file=None, database_url=url))
    try:
        yield engine
    finally:
        engine.dispose()


def make_accounts(url: str, now: datetime, names: list[str] | None = None) -> dict[str, uuid.UUID]:
    """The accounts, each screened all-clear 61 days ago, with two check-ins a day since.

    One Argon2id hash at a low cost for all: a hash carries its own cost, so setup takes
    no CPU worth mentioning while the server keeps its production defaults.
    """
    cheap = Settings(
        _env_file=None,
        database_url=url,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        argon2_parallelism=1,
    )
    password_hash = Passwords.from_settings(cheap).hash(ACCOUNT_PASSWORD)
    joined = now - timedelta(days=HISTORY_DAYS + 1)
    ids = {}
    with setup_engine(url) as engine, Session(engine) as session:
        for name in names or ACCOUNTS:
            user = User(
                email=f"{name}@bench.example",
                password_hash=password_hash,
                equipment=["mat", "resistance-band"],
                created_at=joined,
                updated_at=joined,
            )
            session.add(user)
            session.flush()
            session.add(all_clear_screening(user.id, joined))
            session.execute(insert(CheckInRow), _checkins(user.id, now))
            ids[name] = user.id
        session.commit()
    return ids


def _checkins(user_id: uuid.UUID, now: datetime) -> list[dict[str, Any]]:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for d in range(HISTORY_DAYS):
        for hour in CHECKIN_HOURS:
            at = today - timedelta(days=d) + timedelta(hours=hour)
            if at >= now:
                continue
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": user_id,
                    "recorded_at": at,
                    "received_at": at,
                    "phase": "daily",
                    "pain": 2 + (d * 7 + hour) % 3,
                    "locations": ["lower-back"],
                    "red_flags": {},
                    "cauda_equina": False,
                    "red_flags_resolved": False,
                    "body_hash": "x" * 64,
                }
            )
    return rows


def log_entries(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every planned set done, easy effort, little pain (as bench.__main__.prepare_log)."""
    return [
        LogEntryIn(
            exercise_slug=i["exercise_slug"],
            sets_completed=i["sets"],
            reps=[i["reps"] or 1] * i["sets"],
            hold_seconds=i["hold_seconds"],
            rpe=4,
            pain_during=1,
        ).model_dump(mode="json")
        for i in items
        if i["block"] != "warmup"
    ]


def copies(engine: Engine, template: uuid.UUID, count: int, **fields: Any) -> list[dict[str, Any]]:
    """`count` rows of the stored session `template` with new ids and `fields` changed."""
    with Session(engine) as session:
        stored = session.get(TrainingSession, template)
        assert stored is not None
        base = stored.model_dump()
    return [{**base, "id": uuid.uuid4(), **fields} for _ in range(count)]


def add_logged_sessions(url: str, user_id: uuid.UUID, template: uuid.UUID, now: datetime) -> None:
    """A session logged every other day of the history, like the one just built."""
    with setup_engine(url) as engine:
        days = range(LOG_EVERY_DAYS, HISTORY_DAYS, LOG_EVERY_DAYS)
        rows = copies(engine, template, len(days), status="completed")
        logs = []
        for d, row in zip(days, rows, strict=True):
            started = now - timedelta(days=d, hours=2)
            row.update(created_at=started, updated_at=started + timedelta(minutes=25))
            logs.append(
                {
                    "session_id": row["id"],
                    "user_id": user_id,
                    "started_at": started,
                    "ended_at": started + timedelta(minutes=25),
                    "entries": log_entries(row["items"]),
                    "pain_after": 2,
                    "body_hash": "x" * 64,
                    "version": 1,
                    "received_at": started + timedelta(minutes=25),
                    "updated_at": started + timedelta(minutes=25),
                }
            )
        with Session(engine) as session:
            session.execute(insert(TrainingSession), rows)
            session.execute(insert(SessionLogRow), logs)
            session.commit()


def log_pool(
    url: str, template: uuid.UUID, count: int, path: Path, now: datetime, token: str = ""
) -> None:
    """`count` planned sessions like `template`, each logged once by the PUT step; their
    paths and log bodies (and the owner's `token`) are added to `path` for
    bench/loadgen.py ``--paths-file``."""
    with setup_engine(url) as engine:
        rows = copies(engine, template, count, created_at=now, updated_at=now)
        with Session(engine) as session:
            for start in range(0, len(rows), 2000):
                session.execute(insert(TrainingSession), rows[start : start + 2000])
            session.commit()
    body = json.dumps(
        {
            "started_at": (now - timedelta(minutes=30)).isoformat(),
            "ended_at": (now - timedelta(minutes=1)).isoformat(),
            "entries": log_entries(rows[0]["items"]),
        }
    )
    with path.open("a", encoding="utf-8") as out:
        out.writelines(f"/v1/sessions/{r['id']}/log\t{body}\t{token}\n" for r in rows)


def interleave(path: Path) -> None:
    """Order the log pool one person after another in turn, as the other write steps send
    (one account per connection in turn). In the order it was made, person by person, all
    connections wrote the same person's logs at once: each waited for the one before it
    to let go of the person (bench.loop saw p99 1.8 s on PostgreSQL), which no app does."""
    by_owner: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        by_owner.setdefault(line.rsplit("\t", 1)[-1], []).append(line)
    turns = itertools.zip_longest(*by_owner.values())
    path.write_text("".join(f"{line}\n" for turn in turns for line in turn if line), "utf-8")


def build_session(port: int, token: str) -> dict[str, Any]:
    headers = {**JSON, "Authorization": f"Bearer {token}"}
    status, _, body = _request(port, "/v1/sessions", headers, "POST", SESSION_BODY)
    if status != 201:
        raise SystemExit(f"bench.loop: building a session answered {status}: {body[:300]!r}")
    built: dict[str, Any] = json.loads(body)
    return built


# --- driving a server --------------------------------------------------------------------


def drive(
    port: int, step: Step, tokens: list[str], seconds: float, connections: int, generator: str,
    workdir: Path,
) -> dict[str, Any]:  # fmt: skip
    """Drive `step`: as the one account of `tokens`, or one per connection in turn."""
    headers = {"Authorization": f"Bearer {tokens[0]}"} if len(tokens) == 1 else {}
    if step.method != "GET":
        headers.update(JSON)
    if generator == LOADGEN:
        cmd = [
            PY, "-m", "bench.loadgen", f"--port={port}", f"--path={step.path}",
            f"--seconds={seconds}", f"--connections={connections}", f"--method={step.method}",
            *(f"--header={k}: {v}" for k, v in headers.items()),
        ]  # fmt: skip
        if step.template:
            cmd.append(f"--body-template={step.template}")
        if step.pool:
            cmd.append(f"--paths-file={workdir / 'logs.txt'}")  # each line its owner's token
        elif len(tokens) > 1:
            (workdir / "tokens.txt").write_text("\n".join(tokens) + "\n")
            cmd.append(f"--tokens-file={workdir / 'tokens.txt'}")
        out = _run(cmd)
        result: dict[str, Any] = json.loads(out)
        return result
    assert WRK is not None
    cmd = [WRK, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if step.method != "GET" or len(tokens) > 1:
        # Each request as the next account in turn, when there are several.
        listed = ", ".join(f'"{t}"' for t in tokens)
        script = workdir / f"{step.method.lower()}.lua"
        script.write_text(
            f'wrk.method = "{step.method}"\n'
            f"tokens = {{{listed}}}\n"
            "n = 0\n"
            "request = function()\n"
            "  n = n + 1\n"
            '  wrk.headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]\n'
            "  return wrk.format()\n"
            "end\n"
        )
        cmd += ["-s", str(script)]
    parsed = _parse_wrk(_run([*cmd, f"http://127.0.0.1:{port}{step.path}"]))
    return {**parsed, "non_2xx": parsed["errors"], "exhausted": False}


def _run(cmd: list[str]) -> str:
    done = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True,
        preexec_fn=_pin(LOAD_CORES),  # noqa: PLW1509
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench.loop: {Path(cmd[0]).name} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def generator_for(step: Step) -> str:
    # wrk sends the same bytes every time: only reads can use it.
    return "wrk" if WRK and step.method == "GET" else LOADGEN


def measure(
    database: str, url: str, workdir: Path, seconds: float, connections: int, pool: int,
    people: int,
) -> None:  # fmt: skip
    env = prepare_database(workdir, url=url, accounts=False)
    now = datetime.now(UTC)
    names = [name for step in [*STEPS, FLOOR] for name in people_of(step, people)]
    ids = make_accounts(url, now, names)
    results = []
    with serve("api.main:app", env) as port:
        tokens = {name: sign_in(port, name) for name in names}
        for name in names:
            built = build_session(port, tokens[name])
            add_logged_sessions(url, ids[name], uuid.UUID(built["id"]), now)
            # The first evaluation applies what the history decided: not measured.
            _request(port, "/v1/advice", {"Authorization": f"Bearer {tokens[name]}"})
        (workdir / "logs.txt").write_text("")
        loggers = people_of(STEPS[-1], people)
        for name in loggers:
            template = uuid.UUID(build_session(port, tokens[name])["id"])
            share = -(-pool // len(loggers))
            log_pool(url, template, share, workdir / "logs.txt", datetime.now(UTC), tokens[name])
        interleave(workdir / "logs.txt")
        for step in STEPS:
            gen = generator_for(step)
            mine = [tokens[name] for name in people_of(step, people)]
            results.append((step, gen, drive(port, step, mine, seconds, connections, gen, workdir)))
    with serve("bench.floor:app", env) as port:
        floor_tokens = [sign_in(port, name) for name in people_of(FLOOR, people)]
        for gen in sorted({g for _, g, _ in results}):  # loadgen (with its warm-up) first
            results.append((FLOOR, gen, drive(port, FLOOR, floor_tokens, seconds, connections,
                                              gen, workdir)))  # fmt: skip
    report(database, results, pool)


def report(database: str, results: list[tuple[Step, str, dict[str, Any]]], pool: int) -> None:
    floors = {gen: r["rps"] for step, gen, r in results if step is FLOOR}
    print(f"\n{database}: the loop against the floor (goal: >= {GOAL}x the floor's req/s)")
    print(
        f"{'scenario':30} {'generator':9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'non-2xx':>7} {'x floor':>8}"
    )
    ordered = [r for r in results if r[0] is FLOOR] + [r for r in results if r[0] is not FLOOR]
    for step, gen, r in ordered:
        ratio = r["rps"] / floors[gen] if floors.get(gen) else 0.0
        notes = []
        if step is not FLOOR and ratio < GOAL:
            notes.append("below goal")
        statuses = r.get("statuses") or {}  # loadgen's; wrk counts only non-2xx/3xx
        if r["non_2xx"]:
            notes.append(f"ERRORS {statuses}".rstrip())
        elif set(statuses) - {str(step.expect)}:
            notes.append(f"unexpected statuses {statuses}")
        if r.get("exhausted"):
            notes.append(f"all {pool} planned sessions logged in {r['seconds']:.1f}s")
        shown = "" if step is FLOOR else f"{ratio:7.2f}x"
        print(
            f"{step.name:30} {gen:9} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} "
            f"{r['non_2xx']:7.0f} {shown:>8}  {'; '.join(notes)}".rstrip()
        )


def postgres_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loop", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=stack.SHARED_SERVER)
    parser.add_argument(
        "--log-pool", type=int, help="planned sessions for the log PUT (default: 1,000 a second)"
    )
    parser.add_argument(
        "--people",
        type=int,
        default=16,
        help="accounts each write step and the floor spread their writes over, one per "
        "connection in turn (1: all as one person, as before)",
    )
    args = parser.parse_args()
    pool = args.log_pool or int((args.seconds + 1) * 1000)
    databases = [] if args.database == "postgres" else ["sqlite"]
    if args.database != "sqlite":
        if postgres_answers(args.postgres_url):
            databases.append("postgres")
        elif args.database == "postgres":
            raise SystemExit(f"bench.loop: no PostgreSQL answers at {args.postgres_url}")
        else:
            print(f"PostgreSQL: skipped (nothing answers at {args.postgres_url})")

    pinning = (
        f"server on core {SERVER_CORES}, load on core {LOAD_CORES}"
        if SERVER_CORES
        else "no pinning (1 core)"
    )
    reads = "wrk" if WRK else "bench/loadgen.py (wrk is not installed)"
    print(
        f"load generators: {reads} for GETs, bench/loadgen.py for writes (a new body per "
        f"request); {pinning}; {args.connections} connections, {args.seconds:g}s each"
    )
    for database in databases:
        with tempfile.TemporaryDirectory(prefix="backstrong-loop-") as tmp:
            workdir = Path(tmp)
            if database == "sqlite":
                url = f"sqlite:///{workdir / 'loop.db'}"
                measure("SQLite", url, workdir, args.seconds, args.connections, pool, args.people)
            else:
                with stack.fresh_database(args.postgres_url, prefix="backstrong_loop") as pg:
                    measure("PostgreSQL", pg, workdir, args.seconds, args.connections, pool,
                            args.people)  # fmt: skip


if __name__ == "__main__":
    main()
