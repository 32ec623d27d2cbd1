"""The database goes away: the API answers 503 problem+json at once, and comes back by itself.

Nothing is mocked: the app's engine points at a database that cannot be opened (a file
in a directory that does not exist on SQLite; a closed loopback port on PostgreSQL), or
its pooled connections are killed by the server under it.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlmodel import Session

from api import migrations
from api.config import Settings
from api.db import make_engine
from api.deps import SessionDep
from api.errors import PROBLEM_TYPES
from api.main import create_app
from api.models import WearableUpload
from api.problems import database_problem
from api.security import create_access_token
from tests.conftest import TEST_DATABASE_URL, Account
from tests.conftest import test_settings as settings_for

# Generous for a shared CI machine; a hang would take the pool timeout or longer.
PROMPT_SECONDS = 2.0
LEAKS = ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "OperationalError", 'File "')


def _closed_port() -> int:
    # Bound and released at once: nothing listens there for the rest of the test.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unreachable_url(tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        base = make_url(Settings(database_url=TEST_DATABASE_URL).database_url)
        return base.set(host="127.0.0.1", port=_closed_port()).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path / 'no-such-dir' / 'backstrong.db'}"


@pytest.fixture
def down(tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = settings_for(_unreachable_url(tmp_path))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, settings


def _assert_unavailable(response: Response, elapsed: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "/problems/database-unavailable"
    assert body["status"] == 503
    assert int(response.headers["retry-after"]) > 0
    for leak in LEAKS:
        assert leak not in response.text
    assert elapsed < PROMPT_SECONDS, f"took {elapsed:.2f}s"


def test_public_writes_and_reads_answer_503_when_the_database_is_unreachable(
    down: tuple[TestClient, Settings],
) -> None:
    client, _ = down
    requests: list[tuple[str, str, dict[str, object] | None]] = [
        ("POST", "/v1/auth/register", {"email": "a@example.com", "password": "x" * 12}),
        ("GET", "/v1/exercises", None),
        ("GET", "/v1/exercises/superman", None),
        ("GET", "/v1/equipment", None),
    ]
    for method, path, body in requests:
        started = time.perf_counter()
        response = client.request(method, path, json=body)
        _assert_unavailable(response, time.perf_counter() - started)


def test_signed_in_routes_answer_503_not_401_when_the_database_is_unreachable(
    down: tuple[TestClient, Settings],
) -> None:
    client, settings = down
    token, _ = create_access_token(
        settings, user_id=uuid.uuid4(), role="user", now=datetime.now(UTC)
    )
    signed = {"Authorization": f"Bearer {token}"}
    session_id = uuid.uuid4()
    requests: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", "/v1/routine", None),
        ("POST", "/v1/sessions", {"id": str(session_id), "minutes": 20}),
        (
            "POST",
            "/v1/checkins",
            {"recorded_at": datetime.now(UTC).isoformat(), "phase": "daily", "pain": 2},
        ),
    ]
    for method, path, body in requests:
        started = time.perf_counter()
        response = client.request(method, path, headers=signed, json=body)
        _assert_unavailable(response, time.perf_counter() - started)
    started = time.perf_counter()
    upload = client.post(
        "/v1/wearable/uploads",
        headers={"Authorization": "Bearer bsd_unknown", "Idempotency-Key": "k1"},
        json={},
    )
    _assert_unavailable(upload, time.perf_counter() - started)


def test_probes_when_the_database_is_unreachable(down: tuple[TestClient, Settings]) -> None:
    client, _ = down
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["type"] == "/problems/not-ready"


def test_the_problem_types_are_described(client: TestClient) -> None:
    for slug in ("database-unavailable", "database-timeout"):
        assert slug in PROBLEM_TYPES
        assert client.get(f"/problems/{slug}").status_code == 200


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite: the database file appears later")
def test_recovers_by_itself_when_the_database_appears(tmp_path: Path) -> None:
    path = tmp_path / "later" / "backstrong.db"
    settings = settings_for(f"sqlite:///{path}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/v1/exercises").status_code == 503
        path.parent.mkdir()
        engine = make_engine(settings)
        migrations.upgrade(engine)
        engine.dispose()
        # The same app and engine: no restart.
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/exercises").status_code == 200
        created = client.post(
            "/v1/auth/register", json={"email": "b@example.com", "password": "x" * 12}
        )
        assert created.status_code == 202, created.text


def _terminate(admin: Engine, application_name: str) -> int:
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": application_name},
        ).scalar_one()
    return int(killed)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL: the server kills connections")
def test_recovers_by_itself_when_pooled_connections_are_killed(
    database_url: str, db: Engine
) -> None:
    name = f"outage-{uuid.uuid4().hex[:8]}"
    url = make_url(database_url).update_query_dict({"application_name": name})
    settings = settings_for(url.render_as_string(hide_password=False))
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            assert client.get("/readyz").status_code == 200
            assert client.get("/v1/exercises").status_code == 200
            assert _terminate(admin, name) >= 1
            # Dead pooled connections (and the catalog probe's) are replaced on the spot.
            assert client.get("/readyz").status_code == 200
            assert client.get("/v1/exercises").status_code == 200
            created = client.post(
                "/v1/auth/register", json={"email": "c@example.com", "password": "x" * 12}
            )
            assert created.status_code == 202, created.text
    finally:
        admin.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="statement_timeout is PostgreSQL's")
def test_a_statement_timeout_is_503_database_timeout(database_url: str, db: Engine) -> None:
    settings = settings_for(database_url, db_statement_timeout_ms=50)
    app: FastAPI = create_app(settings)

    # A deliberately slow query, so the server's own timeout cancels it.
    def slow(session: SessionDep) -> dict[str, str]:
        session.execute(text("SELECT pg_sleep(2)"))
        return {"status": "finished"}

    app.add_api_route("/test-only/slow", slow)
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.perf_counter()
        response = client.get("/test-only/slow")
        elapsed = time.perf_counter() - started
    assert response.status_code == 503, response.text
    assert response.json()["type"] == "/problems/database-timeout"
    assert response.headers["retry-after"]
    assert elapsed < 1.5


def test_other_database_errors_stay_500() -> None:
    # An integrity error is a bug to fix, not an outage to wait out.
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        session.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(Exception) as caught:
            session.execute(text("INSERT INTO t VALUES (1)"))
    assert database_problem(caught.value) is None
    engine.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL: the server kills the connection")
def test_an_upload_whose_connection_dies_mid_write_is_503_and_can_be_retried(
    client: TestClient, user: Account, database_url: str
) -> None:
    # Found by bench/faults.py: a connection lost during the upload's flush came back as
    # a 500, and the key stayed in flight for its whole lease.
    token = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"}).json()
    headers = {
        "Authorization": f"Bearer {token['token']}",
        "Idempotency-Key": "dies-mid-write",
        "Content-Type": "application/json",
    }
    started = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    body = {
        "device_session_id": "rec-dies",
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=5)).isoformat(),
        "heart_rate": [
            {"t": (started + timedelta(seconds=i)).isoformat(), "bpm": 80} for i in range(60)
        ],
        "reps": [],
    }
    admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    killed: list[int] = []

    def kill_own_backend(session: Session, *_: object) -> None:
        if killed or not any(isinstance(o, WearableUpload) for o in session.new):
            return
        pid = session.connection().execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killed.append(pid)

    event.listen(Session, "before_flush", kill_own_backend)
    try:
        first = client.post("/v1/wearable/uploads", headers=headers, json=body)
    finally:
        event.remove(Session, "before_flush", kill_own_backend)
        admin.dispose()
    assert killed
    assert first.status_code == 503, first.text
    assert first.json()["type"] == "/problems/database-unavailable"
    retry = client.post("/v1/wearable/uploads", headers=headers, json=body)
    assert retry.status_code == 201, retry.text
    assert retry.json()["summary"]["heart_rate"]["samples"] == 60
