"""Every response carries a request id and security headers; bodies have one limit."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.json_log import JsonFormatter
from tests.conftest import Account


def test_request_id_and_security_headers(client: TestClient) -> None:
    response = client.get("/healthz")
    rid = response.headers["x-request-id"]
    assert len(rid) == 32
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    # A caller's own id is kept when it looks like one, replaced when it does not.
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"}).headers["x-request-id"]
        == "lb-1234abcd"
    )
    assert (
        client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["x-request-id"]
        != "<script>"
    )


def test_problems_name_their_request(client: TestClient) -> None:
    response = client.get("/nope")
    assert response.json()["instance"] == f"urn:request:{response.headers['x-request-id']}"
    assert client.get("/v1/exercises/superman").headers["x-request-id"]  # fast path too


def test_one_body_limit_for_the_whole_app(client: TestClient) -> None:
    big = {"email": "a@example.com", "password": "x" * (2 * 1024 * 1024)}
    response = client.post("/v1/auth/register", json=big)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"
    assert response.headers["x-request-id"]

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    streamed = client.post(
        "/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


def test_a_crash_is_a_500_problem_with_the_request_id(app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("internal detail")

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "internal detail" not in response.text
    assert response.json()["instance"] == f"urn:request:{response.headers['x-request-id']}"


def test_access_log_lines_are_json_without_query_strings(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    client.get("/v1/exercises", params={"q": "secret-search"})
    records = [r for r in caplog.records if r.name == "api.access"]
    assert records
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["path"] == "/v1/exercises"
    assert line["status"] == 200
    assert line["request_id"]
    assert "secret-search" not in json.dumps(line)


def test_cors_only_for_configured_origins(settings: object, db: object) -> None:
    from api.main import create_app
    from tests.conftest import test_settings

    open_app = create_app(
        test_settings(settings.database_url, cors_origins=["https://app.example"]),  # type: ignore[attr-defined]
        engine=db,  # type: ignore[arg-type]
    )
    with TestClient(open_app) as c:
        allowed = c.options(
            "/v1/me",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = c.options(
            "/v1/me",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in other.headers


def test_a_repeated_catalog_read_from_a_browser_keeps_its_cors_header(
    settings: object, db: object
) -> None:
    """The second read of a URL is answered from the replay cache, before the framework's
    layers; a browser's must still get the allow-origin header, or it cannot read it."""
    from api.main import create_app
    from tests.conftest import test_settings

    open_app = create_app(
        test_settings(settings.database_url, cors_origins=["https://app.example"]),  # type: ignore[attr-defined]
        engine=db,  # type: ignore[arg-type]
    )
    with TestClient(open_app) as c:
        browser = {"Origin": "https://app.example"}
        first = c.get("/v1/exercises", headers=browser)
        plain = c.get("/v1/exercises")
        again = c.get("/v1/exercises", headers=browser)
        assert first.status_code == plain.status_code == again.status_code == 200
        assert again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert first.headers["access-control-allow-origin"] == "https://app.example"
        assert again.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-origin" not in plain.headers


def test_logs_hold_no_secrets_or_health_data(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    router = APIRouter()

    @router.get("/broken-query")
    def broken(request: Request) -> None:
        with request.app.state.engine.connect() as conn:
            # Built at run time: a logged traceback quotes source lines, not values.
            value = "-".join(("knee", "secret"))
            conn.execute(text("SELECT * FROM no_such_table WHERE note = :n"), {"n": value})

    app.include_router(router)
    caplog.set_level(logging.DEBUG)
    with TestClient(app, raise_server_exceptions=False) as c:
        c.post("/v1/auth/register", json={"email": "log@example.org", "password": "pw-secret-123"})
        token = c.post(
            "/v1/auth/token", data={"username": "log@example.org", "password": "pw-secret-123"}
        ).json()["access_token"]
        c.post(
            "/v1/checkins",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "recorded_at": "2026-01-01T08:00:00+00:00",
                "phase": "daily",
                "pain": 7,
                "note": "hip-secret",
            },
        )
        # SQLite calls a missing table an OperationalError, which reads as an outage (503).
        assert c.get("/broken-query").status_code in (500, 503)
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "no_such_table" in logged  # the failure itself is logged, for operators
    for secret in ("pw-secret-123", token, "hip-secret", "knee-secret"):
        assert secret not in logged


def test_personal_answers_are_never_stored_by_a_cache(client: TestClient, user: Account) -> None:
    for path in ("/v1/me", "/v1/checkins", "/v1/advice", "/v1/routine", "/v1/me/export"):
        response = client.get(path, headers=user.headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "no-store", path
    # Errors too (here: who the caller is not).
    assert client.get("/v1/me").headers["cache-control"] == "no-store"
    # The catalog says itself how long it may be kept, and keeps saying it.
    for _ in range(2):
        catalog = client.get("/v1/exercises", headers=user.headers)
        assert catalog.headers["cache-control"] != "no-store"
        assert "no-store" not in catalog.headers.get_list("cache-control")


@pytest.mark.parametrize("env", ["development", "production"])
def test_strict_transport_security_in_production_only(
    settings: object, db: object, env: str
) -> None:
    from api.main import create_app
    from tests.conftest import test_settings

    app = create_app(
        test_settings(settings.database_url, env=env, secret_key="s" * 64),  # type: ignore[attr-defined]
        engine=db,  # type: ignore[arg-type]
    )
    with TestClient(app) as c:
        # The second catalog read is a replay, answered before the framework.
        responses = [c.get("/healthz"), c.get("/nope"), *(c.get("/v1/exercises") for _ in "ab")]
    for response in responses:
        hsts = response.headers.get("strict-transport-security")
        assert hsts == ("max-age=31536000; includeSubDomains" if env == "production" else None)


def _post_checkins_scope(user: Account, length: int | None) -> dict[str, Any]:
    # length None: sent chunked, without a Content-Length.
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/checkins",
        "raw_path": b"/v1/checkins",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"authorization", user.headers["Authorization"].encode()),
            *([] if length is None else [(b"content-length", str(length).encode())]),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


@pytest.mark.parametrize("length", [200, None], ids=["with length", "chunked"])
def test_a_client_that_goes_away_mid_body_is_no_error(
    app: FastAPI,
    client: TestClient,
    user: Account,
    caplog: pytest.LogCaptureFixture,
    length: int | None,
) -> None:
    incoming: list[Any] = [
        {"type": "http.request", "body": b'{"phase": "daily", "pa', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> Any:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    with caplog.at_level(logging.INFO):
        asgi: Any = app
        portal: Any = client.portal
        portal.call(asgi, _post_checkins_scope(user, length), receive, send)
    # Nothing to answer (nobody is listening), nothing logged as an error, nothing stored.
    assert sent == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert any("client went away" in r.getMessage() for r in caplog.records)
    assert client.get("/v1/checkins", headers=user.headers).json()["items"] == []
    assert 'status="499"' in client.get("/metrics").text


@pytest.mark.parametrize("length", [200, None], ids=["with length", "chunked"])
def test_a_body_that_never_finishes_is_a_408(
    settings: object, db: object, user: Account, length: int | None
) -> None:
    import anyio

    from api.main import create_app
    from tests.conftest import test_settings

    app = create_app(
        test_settings(settings.database_url, body_timeout_seconds=0.2),  # type: ignore[attr-defined]
        engine=db,  # type: ignore[arg-type]
    )
    first: list[Any] = [{"type": "http.request", "body": b'{"phase": ', "more_body": True}]
    sent: list[Any] = []

    async def receive() -> Any:
        if first:
            return first.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Any) -> None:
        sent.append(message)

    with TestClient(app) as c:
        asgi: Any = app
        portal: Any = c.portal
        portal.call(asgi, _post_checkins_scope(user, length), receive, send)
        assert c.get("/v1/checkins", headers=user.headers).json()["items"] == []
    start = sent[0]
    assert start["status"] == 408
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/problem+json"
    assert headers[b"connection"] == b"close"
    assert json.loads(sent[1]["body"])["type"] == "/problems/request-timeout"
