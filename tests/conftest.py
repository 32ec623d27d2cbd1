"""Test databases: SQLite always; PostgreSQL whenever TEST_DATABASE_URL is set.

Each run builds its schema once with ``alembic upgrade head`` in a database of its
own (a temporary SQLite file, or a PostgreSQL database created for the run and
dropped after it), and every test starts from empty tables.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlmodel import Session, select

from api import admission, middleware, migrations, problems
from api.config import Settings
from api.db import make_engine, metadata
from api.deps import get_clock
from api.errors import PROBLEM_TYPES
from api.main import create_app
from api.models import Screening, User
from api.schemas.common import Problem
from api.services import row_cache
from api.services.seed import SeedReport, apply_seed, load_seed

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def _normalise(url: str) -> str:
    return Settings(database_url=url).database_url


def create_temp_database(prefix: str) -> tuple[str, Engine] | None:
    """A new, empty PostgreSQL database on TEST_DATABASE_URL's server, or None on SQLite."""
    if not TEST_DATABASE_URL:
        return None
    base = make_url(_normalise(TEST_DATABASE_URL))
    name = f"{base.database or 'backstrong'}_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return base.set(database=name).render_as_string(hide_password=False), admin


def drop_temp_database(url: str, admin: Engine) -> None:
    name = make_url(url).database
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    created = create_temp_database("run")
    if created is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url, admin = created
    try:
        yield url
    finally:
        drop_temp_database(url, admin)


def test_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "env": "development",
        # Cheap hashing keeps the suite fast; one test checks the real defaults.
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
        "hash_concurrency": 2,
        # Tests register many accounts from one address; tests/api/test_auth.py checks
        # the throttle with its own limit.
        "register_max_per_address": 10_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    migrations.upgrade(eng)
    yield eng
    eng.dispose()


def _truncate_all(engine: Engine) -> None:
    existing = set(inspect(engine).get_table_names())
    # Children before parents, so foreign keys stay on throughout.
    tables = [t.name for t in reversed(metadata.sorted_tables) if t.name in existing]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The migrated test database, emptied after the test."""
    try:
        yield engine
    finally:
        _truncate_all(engine)
        # Emptied as no database in use ever is: the next case may store rows with the
        # same ids and times (fixed test data) and other content.
        row_cache.clear(engine)


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as s:
        yield s


class FakeClock:
    """A clock tests can move; it starts at the real time and ticks 1 ms per reading,
    so successive requests are ordered in time as they are in real life."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


FIELD_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# What a problem may carry beyond type, title, status, detail and instance: the Problem
# schema's own fields, and the two api/openapi.py adds from other shapes.
PROBLEM_PARTS = set(Problem.model_fields) - {"type", "title", "status", "detail"} | {
    "advice",
    "gates",
}


def checked_problem_response(*args: Any, **kwargs: Any) -> Any:
    """problem_response, refusing what no client may receive: a problem type that
    `GET /problems/{slug}` does not explain, or a field error without `in` and `code`."""
    slug = args[1] if len(args) > 1 else kwargs["slug"]
    assert slug in PROBLEM_TYPES, f"problem type {slug!r} is not explained at /problems/"
    extra = kwargs.get("extra") or {}
    # Every part a problem carries is one the Problem schema names (issue 17).
    assert set(extra) <= PROBLEM_PARTS, f"undocumented problem parts: {set(extra) - PROBLEM_PARTS}"
    for error in extra.get("errors", []):
        assert set(error) == {"field", "in", "code", "message"}, error
        assert error["in"] in ("body", "query", "path", "header"), error
        assert FIELD_CODE.match(error["code"]), error
    return _problem_response(*args, **kwargs)


_problem_response = problems.problem_response


@pytest.fixture(autouse=True)
def _problems_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every test's error responses are checked, wherever they are made.
    for module in (problems, middleware, admission):
        monkeypatch.setattr(module, "problem_response", checked_problem_response)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, db: Engine, clock: FakeClock) -> FastAPI:
    application = create_app(settings, engine=db)
    application.dependency_overrides[get_clock] = lambda: clock
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def seeded(db: Engine) -> SeedReport:
    with Session(db) as s:
        return apply_seed(s, load_seed())


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def sign_in(client: TestClient, email: str, password: str) -> Response:
    return client.post("/v1/auth/token", data={"username": email, "password": password})


AccountFactory = Callable[..., Account]
NO_RISK_FACTORS = {
    "over_50_new_pain": False,
    "immunosuppressed": False,
    "long_term_steroids": False,
    "iv_drug_use": False,
    "cancer_history": False,
}
ALL_CLEAR_SCREEN: dict[str, Any] = {
    "osteoporosis": False,
    "pregnant": False,
    "pregnancy_weeks": None,
    "spinal_surgery_last_12_months": False,
    "stenosis_or_spondylolisthesis": False,
    "risk_factors": NO_RISK_FACTORS,
}


@pytest.fixture
def make_account(client: TestClient, db: Engine) -> AccountFactory:
    """Register through the API, set a role directly (no public way exists), sign in."""
    counter = iter(range(1, 10_000))

    def make(
        role: str = "user",
        email: str | None = None,
        password: str = "pw-123456789",
        screened: bool = True,
    ) -> Account:
        email = email or f"{role}{next(counter)}@example.com"
        created = client.post("/v1/auth/register", json={"email": email, "password": password})
        assert created.status_code == 202, created.text
        with Session(db) as s:
            user_id = str(s.exec(select(User.id).where(User.email == email.lower())).one())
        if screened:
            # Most tests are about what follows the screen: an all-clear one, stored
            # directly so no advice is evaluated here (tests/api/test_screening.py
            # covers the route).
            with Session(db) as s:
                s.add(Screening(user_id=uuid.UUID(user_id), **ALL_CLEAR_SCREEN))
                s.commit()
        if role != "user":
            with Session(db) as s:
                user = s.get(User, uuid.UUID(user_id))
                assert user is not None
                user.role = role
                s.add(user)
                s.commit()
        tokens = sign_in(client, email, password)
        assert tokens.status_code == 200, tokens.text
        body = tokens.json()
        return Account(user_id, email, password, body["access_token"], body["refresh_token"])

    return make


@pytest.fixture
def user(make_account: AccountFactory) -> Account:
    return make_account()


@pytest.fixture
def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL)


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The schema fuzzer's answers per operation with a path id (tests/api/
    test_schema_fuzz.py records them; the reports carry them back from xdist workers):
    each must show a 2xx, i.e. that the fuzzer reached a real object."""
    seen: dict[str, dict[int, int]] = {}
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get(
        "failed", []
    ):
        for name, statuses in getattr(report, "user_properties", []):
            if name != "fuzz_statuses":
                continue
            for label, counts in statuses.items():
                mine = seen.setdefault(label, {})
                for status, n in counts.items():
                    mine[int(status)] = mine.get(int(status), 0) + n
    with_ids = {label: counts for label, counts in seen.items() if "{" in label}
    if not with_ids:
        return
    terminalreporter.write_sep("-", "schema fuzzing: answers to operations with a path id")
    for label in sorted(with_ids, key=lambda k: k.split(" ", 1)[::-1]):
        counts = with_ids[label]
        shown = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        reached = "ok" if any(200 <= s < 300 for s in counts) else "NO 2xx"
        terminalreporter.write_line(f"{reached:6} {label:50} {shown}")
