"""Alembic environment: URL from Backstrong's settings, metadata from its models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, Engine

import api.models  # noqa: F401  (registers every table on the metadata)
from api.config import Settings
from api.db import make_engine, metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while migrating, checked and back on after the commit.

    SQLite alters a column by copying the table and dropping the old one (Alembic's
    batch mode); with foreign keys enforced, that DROP deletes or nulls every row that
    refers to the table (a rebuild of `devices` emptied `idempotency_keys` and cut every
    upload from its device). SQLite's own procedure for such changes turns them off
    first and runs `PRAGMA foreign_key_check` before committing (_check_foreign_keys);
    the switch only works outside a transaction, so it wraps the whole run and its commit.
    """
    raw = connection.connection.dbapi_connection
    if connection.dialect.name != "sqlite" or raw is None or raw.in_transaction:
        yield
        return
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if raw.in_transaction:
            raw.rollback()  # the run failed before its commit: nothing of it stays
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")


def run_migrations_offline() -> None:
    url = config.attributes.get("database_url") or Settings().database_url
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Callers (the CLI, tests, pytest-alembic) may hand over a connection or an
    # engine; otherwise build one from the environment's settings.
    connectable: Connection | Engine | None = config.attributes.get(
        "connection"
    ) or config.attributes.get("engine")
    if isinstance(connectable, Connection):
        _run(connectable)
        return
    engine = connectable
    if engine is None:
        url = config.attributes.get("database_url")
        engine = make_engine(Settings(database_url=url) if url else Settings())
    with engine.connect() as conn, _foreign_keys_off(conn):
        _run(conn)
        _check_foreign_keys(conn)
        conn.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
