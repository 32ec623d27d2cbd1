"""The backstrong command as an operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main


@pytest.fixture
def fresh_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BACKSTRONG_DATABASE_URL", url)
    monkeypatch.delenv("BACKSTRONG_ENV", raising=False)
    return url


def test_migrate_seed_check(fresh_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 1
    assert "backstrong migrate" in capsys.readouterr().err
    assert main(["seed"]) == 1
    assert "not migrated" in capsys.readouterr().err

    assert main(["migrate"]) == 0
    assert "upgraded empty ->" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "already at head" in capsys.readouterr().out
    assert main(["check"]) == 0
    assert "migrations at head" in capsys.readouterr().out

    assert main(["seed"]) == 0
    assert "exercises: 10 created" in capsys.readouterr().out
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "exercises: 0 created, 0 updated, 10 unchanged" in out
    assert "nothing to change" in out


def test_seed_file_error_is_one_line(
    fresh_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--dir", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "muscles.yaml: file not found" in err


def test_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKSTRONG_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert main(["check"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("backstrong check: error: database error:")
    assert len(err.splitlines()) == 1
