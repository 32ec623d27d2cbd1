"""Test databases: SQLite always; PostgreSQL whenever TEST_DATABASE_URL is set.

Each run builds its schema once with ``alembic upgrade head`` in a database of its
own (a temporary SQLite file, or a PostgreSQL database created for the run and
dropped after it), and every test starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlmodel import Session

from api import migrations
from api.config import Settings
from api.db import make_engine, metadata
from api.main import create_app
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


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=TEST_SECRET, env="development")


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


@pytest.fixture
def session(db: Engine) -> Iterator[Session]:
    with Session(db, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(settings: Settings, db: Engine) -> FastAPI:
    return create_app(settings, engine=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def seeded(db: Engine) -> SeedReport:
    with Session(db) as s:
        return apply_seed(s, load_seed())


@pytest.fixture
def on_postgres() -> bool:
    return bool(TEST_DATABASE_URL)


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
