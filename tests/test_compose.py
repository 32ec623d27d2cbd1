"""docker-compose.yml cannot run here (no Docker engine); check what it says instead."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import project_root


def _compose() -> dict[str, Any]:
    return yaml.safe_load((project_root() / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_services_and_health_gating() -> None:
    services = _compose()["services"]
    assert set(services) >= {"db", "api"}
    db = services["db"]
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any("/var/lib/postgresql/data" in v for v in db["volumes"])
    api = services["api"]
    assert api["build"]
    assert api["depends_on"]["db"]["condition"] == "service_healthy"


def test_api_migrates_and_seeds_before_serving() -> None:
    api = _compose()["services"]["api"]
    command = api["command"]
    script = command if isinstance(command, str) else " ".join(command)
    migrate, seed, serve = (
        script.index("backstrong migrate"),
        script.index("backstrong seed"),
        script.index("backstrong serve"),
    )
    assert migrate < seed < serve
    env = api["environment"]
    assert env["BACKSTRONG_ENV"] == "production"
    # The secret comes from the environment, never a literal in the file.
    assert env["BACKSTRONG_SECRET_KEY"].startswith("${BACKSTRONG_SECRET_KEY")
    assert env["BACKSTRONG_DATABASE_URL"].startswith("postgresql+psycopg://")
    # Several workers, their count from the environment.
    assert env["BACKSTRONG_WORKERS"].startswith("${BACKSTRONG_WORKERS")


def test_dockerfile_installs_and_runs_the_cli() -> None:
    text = (project_root() / "Dockerfile").read_text()
    assert "pip install" in text
    assert "backstrong" in text
