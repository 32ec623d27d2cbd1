"""The production setup for load and fault runs: a fresh PostgreSQL database (or a private
throwaway cluster, or a SQLite file), migrated and seeded, accounts and devices, and
`backstrong serve` with several worker processes on a free loopback port, served from
this checkout or another one (`Code`).
"""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import create_engine

from bench.http import Connection

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = "127.0.0.1"
SHARED_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# Where initdb and pg_ctl live, for the private cluster of bench/faults.py.
PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "bench-load-password-1"


def free_port(start: int | None = None) -> int:
    """A loopback port nothing listens on (the first free one from `start`, if given)."""
    for port in range(start, start + 200) if start else [0]:
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError(f"no free port from {start}")


def sqlalchemy_url(conninfo: str) -> str:
    """A libpq URL with the driver named; any other URL (sqlite:///...) as it is."""
    return conninfo.replace("postgresql://", "postgresql+psycopg://", 1)


@dataclass(frozen=True)
class Code:
    """A checkout to run `backstrong` from (migrate, seed, create-admin, serve), and the
    Python that runs it: its own `.venv` if it has one, else this one."""

    root: Path
    python: str

    @classmethod
    def at(cls, root: Path) -> Code:
        venv = root / ".venv" / "bin" / "python"
        return cls(root, str(venv) if venv.exists() else PY)

    def env(self, env: dict[str, str]) -> dict[str, str]:
        # This venv installs its checkout as an editable package; PYTHONPATH comes first
        # on sys.path, so another checkout's `api` is the one imported, in uvicorn's
        # spawned workers too.
        path = [str(self.root), *filter(None, [env.get("PYTHONPATH")])]
        return {**env, "PYTHONPATH": os.pathsep.join(path)}


THIS = Code(ROOT, PY)


# --- databases ---------------------------------------------------------------------------


@contextmanager
def fresh_database(server: str = SHARED_SERVER, prefix: str = "backstrong_load") -> Iterator[str]:
    """A new database on `server`, dropped afterwards; yields its libpq URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_sqlite() -> Iterator[str]:
    """A new SQLite file in a temporary directory, deleted afterwards; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="backstrong-load-") as tmp:
        yield f"sqlite:///{tmp}/load.db"


class PrivateCluster:
    """A throwaway PostgreSQL cluster of our own (the shared one is never stopped).

    Runs as the `postgres` OS user (PostgreSQL refuses root), listens on 127.0.0.1 only,
    with its socket directory inside its own temporary directory.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="backstrong-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        user = pwd.getpwnam("postgres")
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def _pg(self, *args: str, timeout: float = 120) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def init(self) -> None:
        self._pg(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c max_connections=200"
        self._pg(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def destroy(self) -> None:
        if self.running:
            with suppress(subprocess.SubprocessError):
                self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the server --------------------------------------------------------------------------


def server_env(
    db_url: str, workers: int, pool_size: int, max_overflow: int, log_level: str = "WARNING"
) -> dict[str, str]:
    env = {
        **os.environ,
        "BACKSTRONG_DATABASE_URL": sqlalchemy_url(db_url),
        "BACKSTRONG_ENV": "production",
        "BACKSTRONG_SECRET_KEY": secrets.token_hex(32),
        # One JSON line per request would cost the shared cores more than some routes do.
        "BACKSTRONG_LOG_LEVEL": log_level,
        "BACKSTRONG_WORKERS": str(workers),
        "BACKSTRONG_DB_POOL_SIZE": str(pool_size),
        "BACKSTRONG_DB_MAX_OVERFLOW": str(max_overflow),
        "BACKSTRONG_ADMIN_PASSWORD": PASSWORD,
    }
    env.pop("DATABASE_URL", None)
    return env


def cli(env: dict[str, str], *args: str, code: Code = THIS) -> str:
    done = subprocess.run(
        [code.python, "-m", "api.cli", *args],
        cwd=code.root, env=code.env(env), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"backstrong {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces or parentheses: the fields follow the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


class Server:
    """`backstrong serve --workers N` (uvicorn's supervisor and its worker processes)."""

    def __init__(
        self, env: dict[str, str], workers: int, log_path: Path, code: Code = THIS
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [code.python, "-m", "api.cli", "serve", "--host", HOST, "--port", str(self.port),
             "--workers", str(workers)],
            cwd=code.root, env=code.env(env), stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def worker_pids(self) -> list[int]:
        pids = []
        for pid in _children(self.proc.pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            # multiprocessing's spawn workers; not its resource tracker.
            if b"spawn_main" in cmdline:
                pids.append(pid)
        return pids

    def wait_ready(self, timeout: float = 90) -> None:
        """Every worker up and the database reachable (several /readyz in a row)."""
        deadline = time.monotonic() + timeout
        in_a_row = 0
        while in_a_row < 3 * self.workers:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready in {timeout:g}s; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}/readyz", timeout=2):
                    in_a_row += 1
            except (OSError, urllib.error.HTTPError):
                in_a_row = 0
                time.sleep(0.2)
            if len(self.worker_pids()) < self.workers:
                in_a_row = 0
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()

    def keep_log(self, path: Path) -> None:
        path.write_bytes(self.log_path.read_bytes())

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_lines_with(self, text: str) -> int:
        return sum(text in line for line in self.log_path.read_text(errors="replace").splitlines())


# --- accounts ----------------------------------------------------------------------------


@dataclass
class Account:
    user_id: str
    email: str
    token: str = ""
    device_id: str = ""
    device_token: str = ""


def make_accounts(
    db_url: str, env: dict[str, str], count: int, admins: int, code: Code = THIS
) -> list[Account]:
    """`count` people, inserted directly, and `admins` admins made the supported way, with
    `backstrong create-admin` (of `code`).

    The people share one Argon2id hash made at a low cost: a hash carries its own cost,
    so their one sign-in each (before the measured run) does not take minutes of CPU on a
    shared machine. The server's own settings stay the production defaults. Rows go in
    through the app's table definitions, so ids, booleans and JSON are stored the way each
    database expects (on SQLite a UUID is 32 hex digits).
    """
    from sqlalchemy import insert

    from api.config import Settings
    from api.models import Screening, User
    from api.security import Passwords
    from bench.people import all_clear_screening

    cheap = Settings(
        _env_file=None,
        database_url=env["BACKSTRONG_DATABASE_URL"],
        argon2_time_cost=1,
        argon2_memory_kib=8192,
        argon2_parallelism=1,
    )
    password_hash = Passwords.from_settings(cheap).hash(PASSWORD)
    now = datetime.now(UTC)
    people = [Account(str(uuid.uuid4()), f"load{n}@bench.example") for n in range(count)]
    # Core inserts naming only the columns every revision since d120b8e has, so that a
    # `--base` checkout's database (an older schema) takes them as well as this one's.
    users = [
        {
            "id": uuid.UUID(a.user_id), "email": a.email, "password_hash": password_hash,
            "role": "user", "equipment": ["mat", "resistance-band"], "session_minutes": 30,
            "timezone": "UTC", "birth_year": 1980, "created_at": now, "updated_at": now,
        }
        for a in people
    ]  # fmt: skip
    screens = [all_clear_screening(uuid.UUID(a.user_id), now).model_dump() for a in people]
    engine = create_engine(sqlalchemy_url(db_url))
    try:
        with engine.begin() as conn:
            conn.execute(insert(User.__table__), users)  # type: ignore[attr-defined]
            conn.execute(insert(Screening.__table__), screens)  # type: ignore[attr-defined]
    finally:
        engine.dispose()
    admin_accounts = []
    for n in range(admins):
        email = f"admin{n}@bench.example"
        out = cli(env, "create-admin", email, code=code)
        admin_accounts.append(Account(out.strip().rsplit("id ", 1)[1].rstrip(")"), email))
    return people + admin_accounts


async def sign_in(port: int, accounts: list[Account], concurrency: int = 8) -> None:
    """Each client signs in once, up front (a sign-in costs an Argon2 verification)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(account: Account) -> None:
        async with gate:
            conn = Connection(HOST, port, timeout=60)
            form = f"username={account.email}&password={PASSWORD}".replace("@", "%40")
            for _ in range(5):
                response = await conn.request(
                    "POST",
                    "/v1/auth/token",
                    {"Content-Type": "application/x-www-form-urlencoded"},
                    form.encode(),
                )
                if response.status == 200:
                    account.token = json.loads(response.body)["access_token"]
                    break
                await asyncio.sleep(1)
            conn.close()
            if not account.token:
                raise RuntimeError(f"sign-in failed for {account.email}: {response.status}")

    await asyncio.gather(*(one(a) for a in accounts))


async def add_devices(port: int, accounts: list[Account]) -> None:
    async def one(account: Account) -> None:
        conn = Connection(HOST, port)
        response = await conn.request(
            "POST",
            "/v1/me/devices",
            {"Authorization": f"Bearer {account.token}", "Content-Type": "application/json"},
            b'{"name": "bench band"}',
        )
        conn.close()
        if response.status != 201:
            raise RuntimeError(f"device for {account.email}: {response.status} {response.body!r}")
        body = json.loads(response.body)
        account.device_id, account.device_token = body["id"], body["token"]

    await asyncio.gather(*(one(a) for a in accounts))
