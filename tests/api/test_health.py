"""Liveness and readiness as a load balancer sees them."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app
from tests.conftest import TEST_SECRET


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_migrated(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "migrations": "at head"}


def _client_for(url: str) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, secret_key=TEST_SECRET)))


def test_readyz_503_when_not_migrated(tmp_path: Path) -> None:
    with _client_for(f"sqlite:///{tmp_path / 'empty.db'}") as client:
        response = client.get("/readyz")
        # Liveness does not depend on the database.
        assert client.get("/healthz").status_code == 200
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/not-ready"
    assert "backstrong migrate" in body["detail"]


def test_readyz_503_when_database_unreachable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "x.db"
    with _client_for(f"sqlite:///{missing}") as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["type"] == "/problems/not-ready"
    assert "unreachable" in response.json()["detail"]
