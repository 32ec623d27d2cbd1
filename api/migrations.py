"""Running and inspecting Alembic migrations from the app and the CLI."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    # The app and the CLI configure logging themselves.
    config.attributes["configure_logging"] = False
    if engine is not None:
        config.attributes["engine"] = engine
    return config


@lru_cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(bind: Engine | Connection) -> frozenset[str]:
    if isinstance(bind, Connection):
        return frozenset(MigrationContext.configure(bind).get_current_heads())
    with bind.connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())


def stored_revisions(conn: Connection) -> frozenset[str]:
    """What alembic_version holds, read directly: cheap enough for every probe."""
    if not inspect(conn).has_table("alembic_version"):
        return frozenset()
    return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def is_at_head(bind: Engine | Connection) -> bool:
    return current_revisions(bind) == head_revisions()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)
