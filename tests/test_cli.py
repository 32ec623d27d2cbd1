"""The backstrong command as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.cli import main
from api.config import Settings
from api.main import create_app
from tests.conftest import sign_in


@pytest.fixture
def fresh_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("BACKSTRONG_DATABASE_URL", url)
    monkeypatch.delenv("BACKSTRONG_ENV", raising=False)
    return url


@pytest.fixture
def migrated(fresh_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated database, and cheap password hashing for the accounts a test makes."""
    assert main(["migrate"]) == 0
    monkeypatch.setenv("BACKSTRONG_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("BACKSTRONG_ARGON2_MEMORY_KIB", "1024")
    return fresh_url


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


def test_create_admin_and_set_role(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BACKSTRONG_ADMIN_PASSWORD", "admin-password-1")
    assert main(["create-admin", "Boss@Example.com"]) == 0
    assert "boss@example.com is an admin" in capsys.readouterr().out
    assert main(["create-admin", "boss@example.com"]) == 1
    assert "already has an account" in capsys.readouterr().err
    assert main(["create-admin", "not an email"]) == 1
    assert "not an email address" in capsys.readouterr().err

    monkeypatch.setenv("BACKSTRONG_ADMIN_PASSWORD", "short")
    assert main(["create-admin", "other@example.com"]) == 1
    assert "8-128 characters" in capsys.readouterr().err

    with TestClient(create_app(Settings())) as client:
        tokens = sign_in(client, "boss@example.com", "admin-password-1")
        assert tokens.status_code == 200
        headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        assert client.get("/v1/me", headers=headers).json()["role"] == "admin"

        assert main(["set-role", "boss@example.com", "clinician"]) == 0
        assert "admin -> clinician" in capsys.readouterr().out
        # The role is read from the database on every request, so it applies at once.
        assert client.get("/v1/me", headers=headers).json()["role"] == "clinician"

    assert main(["set-role", "nobody@example.com", "admin"]) == 1
    assert "no account" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["set-role", "boss@example.com", "superuser"])


def test_serve_sends_no_server_banner(
    fresh_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setenv("BACKSTRONG_METRICS_ENABLED", "false")
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    main(["serve"])
    assert seen["app"] == "api.main:app"
    # uvicorn would otherwise add "server: uvicorn" to every response.
    assert seen["server_header"] is False


def test_a_demoted_clinicians_unused_codes_stay_dead(
    migrated: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(Settings())) as client:

        def account(email: str) -> dict[str, str]:
            made = client.post(
                "/v1/auth/register", json={"email": email, "password": "a-good-password"}
            )
            assert made.status_code == 202, made.text
            token = sign_in(client, email, "a-good-password").json()["access_token"]
            return {"Authorization": f"Bearer {token}"}

        therapist, patient = account("pt@example.com"), account("patient@example.com")
        assert main(["set-role", "pt@example.com", "clinician"]) == 0
        used = client.post("/v1/clinician/invitations", headers=therapist).json()["code"]
        unused = client.post("/v1/clinician/invitations", headers=therapist).json()["code"]
        linked = client.post("/v1/me/clinicians", headers=patient, json={"code": used})
        assert linked.status_code == 201, linked.text
        capsys.readouterr()
        assert main(["set-role", "pt@example.com", "user"]) == 0
        assert "1 unused invitation code(s) withdrawn" in capsys.readouterr().out
        assert main(["set-role", "pt@example.com", "clinician"]) == 0
        again = client.post("/v1/me/clinicians", headers=patient, json={"code": unused})
        assert again.status_code == 422, again.text
        assert again.json()["errors"][0]["field"] == "code"
        # The link made while a clinician is the patient's to keep or end.
        mine = client.get("/v1/me/clinicians", headers=patient).json()["items"]
        assert len(mine) == 1


def test_the_outbox_hands_each_registration_message_to_a_mailer_once(
    migrated: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(create_app(Settings())) as client:
        for email in ("new@example.com", "New@Example.com", "other@example.com"):
            made = client.post(
                "/v1/auth/register", json={"email": email, "password": "a-good-password"}
            )
            assert made.status_code == 202, made.text
        capsys.readouterr()
        assert main(["outbox", "--peek"]) == 0
        peeked = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [(m["to"], m["kind"]) for m in peeked] == [
            ("new@example.com", "welcome"),
            ("new@example.com", "already-registered"),
            ("other@example.com", "welcome"),
        ]
        assert main(["outbox", "--limit", "2"]) == 0
        first = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert first == peeked[:2]
        assert main(["outbox"]) == 0
        rest = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert rest == peeked[2:]
        assert main(["outbox"]) == 0
        assert capsys.readouterr().out == ""
        # What went to a person's address is in their export, and goes with the account.
        token = sign_in(client, "new@example.com", "a-good-password").json()["access_token"]
        me = {"Authorization": f"Bearer {token}"}
        messages = client.get("/v1/me/export", headers=me).json()["messages"]
        assert [m["kind"] for m in messages] == ["welcome", "already-registered"]
        assert all(m["sent_at"] for m in messages)
        gone = client.request("DELETE", "/v1/me", headers=me, json={"password": "a-good-password"})
        assert gone.status_code == 204, gone.text
    engine = create_engine(migrated)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT recipient FROM outbox")).scalars().all()
    engine.dispose()
    assert left == ["other@example.com"]
