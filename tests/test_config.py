"""Settings come from the environment and refuse unsafe production setups."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.cli import main
from api.config import DEFAULT_SECRET_KEY, Settings
from api.main import create_app


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "BACKSTRONG_ENV",
        "BACKSTRONG_SECRET_KEY",
        "BACKSTRONG_DATABASE_URL",
        "DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")  # no stray .env file


def test_defaults_are_for_development() -> None:
    settings = Settings()
    assert settings.env == "development"
    assert settings.database_url == "sqlite:///./backstrong.db"
    assert settings.secret_key == DEFAULT_SECRET_KEY


def test_prefixed_and_plain_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/app")
    assert Settings().database_url == "postgresql+psycopg://u:p@db:5432/app"
    monkeypatch.setenv("BACKSTRONG_DATABASE_URL", "sqlite:///./other.db")
    assert Settings().database_url == "sqlite:///./other.db"


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKSTRONG_ENV", "production")
    with pytest.raises(ValidationError, match="BACKSTRONG_SECRET_KEY must be set"):
        Settings()
    with pytest.raises(ValidationError, match="BACKSTRONG_SECRET_KEY must be set"):
        create_app()
    monkeypatch.setenv("BACKSTRONG_SECRET_KEY", "short")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("BACKSTRONG_SECRET_KEY", "x" * 40)
    assert Settings().env == "production"


def test_cli_reports_the_refusal_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKSTRONG_ENV", "production")
    assert main(["serve"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "BACKSTRONG_SECRET_KEY must be set" in err


def test_unknown_env_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKSTRONG_ENV", "prod")
    with pytest.raises(ValidationError, match="env"):
        Settings()
