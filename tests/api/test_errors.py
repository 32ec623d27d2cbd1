"""Every error is application/problem+json with a stable type; validation names fields."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pydantic import BaseModel, Field

import api
from api import problems
from api.errors import (
    PROBLEM_TYPES,
    AppError,
    Conflict,
    FieldError,
    TooManyRequests,
    Unauthorized,
)


class Probe(BaseModel):
    name: str
    pain: int = Field(ge=0, le=10)
    tags: list[str] = []


def _probe_router() -> APIRouter:
    # A stand-in route with a JSON body, to drive the app's own error handlers.
    router = APIRouter()

    @router.post("/probe")
    def probe(body: Probe) -> Probe:
        return body

    @router.get("/probe/conflict")
    def conflict() -> None:
        raise Conflict("already there", extra={"current_etag": "abc"})

    @router.get("/probe/busy")
    def busy() -> None:
        raise TooManyRequests("slow down", retry_after=7)

    @router.get("/probe/unauthorized")
    def unauthorized() -> None:
        raise Unauthorized()

    @router.get("/probe/field")
    def field_error() -> None:
        raise FieldError([("dose.reps_min", "must not exceed reps_max", "conflict")])

    @router.get("/probe/crash")
    def crash() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    return router


@pytest.fixture
def probe_client(app: FastAPI) -> Iterator[TestClient]:
    app.include_router(_probe_router())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _assert_problem(response: Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    assert isinstance(body["detail"], str)
    return body


def test_malformed_json_is_422_naming_the_body(probe_client: TestClient) -> None:
    response = probe_client.post(
        "/probe", content=b'{"name": "x", "pain": ', headers={"content-type": "application/json"}
    )
    body = _assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "body"
    assert "JSON" in body["errors"][0]["message"]


def test_wrong_type_is_422_naming_the_field(probe_client: TestClient) -> None:
    response = probe_client.post("/probe", json={"name": "x", "pain": "lots"})
    body = _assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["pain"]
    assert body["errors"][0]["in"] == "body"
    assert "pain" in body["detail"]


def test_nested_and_missing_fields_are_named(probe_client: TestClient) -> None:
    response = probe_client.post("/probe", json={"pain": 11, "tags": ["ok", 5]})
    body = _assert_problem(response, 422, "validation-error")
    assert {e["field"] for e in body["errors"]} == {"name", "pain", "tags.1"}


def test_unknown_route_and_method(probe_client: TestClient) -> None:
    _assert_problem(probe_client.get("/nope"), 404, "not-found")
    response = probe_client.delete("/healthz")
    _assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["allow"]


def test_405_allows_every_method_of_the_path(probe_client: TestClient) -> None:
    # GET and POST /v1/sessions are separate routes; Allow must name both.
    response = probe_client.delete("/v1/sessions")
    _assert_problem(response, 405, "method-not-allowed")
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "DELETE" not in allowed


def test_service_errors_map_to_problems(probe_client: TestClient) -> None:
    body = _assert_problem(probe_client.get("/probe/conflict"), 409, "conflict")
    assert body["current_etag"] == "abc"
    body = _assert_problem(probe_client.get("/probe/field"), 422, "validation-error")
    assert body["errors"] == [
        {
            "field": "dose.reps_min",
            "in": "body",
            "code": "conflict",
            "message": "must not exceed reps_max",
        }
    ]


def test_error_meaning_becomes_http_headers(probe_client: TestClient) -> None:
    # Services say what the error means (retry after 7 s, authenticate with a bearer
    # token); the HTTP layer alone turns that into headers.
    busy = probe_client.get("/probe/busy")
    _assert_problem(busy, 429, "too-many-requests")
    assert busy.headers["retry-after"] == "7"
    assert "www-authenticate" not in busy.headers
    denied = probe_client.get("/probe/unauthorized")
    _assert_problem(denied, 401, "unauthorized")
    assert denied.headers["www-authenticate"] == "Bearer"
    assert "retry-after" not in denied.headers
    conflict = probe_client.get("/probe/conflict")
    assert "retry-after" not in conflict.headers
    assert "www-authenticate" not in conflict.headers


def test_unexpected_errors_hide_internals(probe_client: TestClient) -> None:
    response = probe_client.get("/probe/crash")
    body = _assert_problem(response, 500, "internal-error")
    assert "passwd" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"] == "An unexpected error occurred."


def test_every_problem_type_is_documented(client: TestClient) -> None:
    for slug in PROBLEM_TYPES:
        response = client.get(f"/problems/{slug}")
        assert response.status_code == 200
        assert response.json()["type"] == f"/problems/{slug}"
    _assert_problem(client.get("/problems/made-up"), 404, "not-found")


def test_openapi_documents_errors_as_problems(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert "Problem" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    readyz = doc["paths"]["/readyz"]["get"]["responses"]["503"]
    content = readyz["content"]["application/problem+json"]
    assert content["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert content["example"]["type"] == "/problems/not-ready"
    assert content["example"]["status"] == 503


def test_real_routes_name_the_field_too(client: TestClient) -> None:
    malformed = client.post(
        "/v1/auth/register",
        content=b'{"email": "a@example.com", "password": ',
        headers={"content-type": "application/json"},
    )
    body = _assert_problem(malformed, 422, "validation-error")
    assert body["errors"][0]["field"] == "body"
    wrong_type = client.post("/v1/auth/register", json={"email": "a@example.com", "password": 5})
    body = _assert_problem(wrong_type, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["password"]


def test_every_operation_documents_the_errors_it_can_give(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            where = f"{method.upper()} {path}"
            assert "500" in codes, where
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= codes, where
            if operation.get("security"):
                assert "401" in codes, where


def _slugs_the_code_names() -> set[str]:
    """Every problem type the code can send: each AppError's slug, the HTTP layer's own,
    and every slug written literally beside a problem being sent."""
    for module in pkgutil.walk_packages(api.__path__, "api."):
        importlib.import_module(module.name)
    classes, todo = set(), [AppError]
    while todo:
        cls = todo.pop()
        classes.add(cls)
        todo += cls.__subclasses__()
    slugs = {cls.slug for cls in classes} | set(problems._STATUS_SLUGS.values())
    for path in Path(api.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in ("_send_problem", "problem_response"):
                slugs |= {
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant)
                    and isinstance(a.value, str)
                    and re.fullmatch(r"[a-z]+(-[a-z]+)*", a.value)
                }
    return slugs


def test_every_problem_type_the_code_can_raise_is_explained(client: TestClient) -> None:
    slugs = _slugs_the_code_names()
    assert {"idempotency-key-reused", "client-id-reused", "busy", "request-timeout"} <= slugs
    for slug in sorted(slugs):
        assert slug in PROBLEM_TYPES, slug
        explained = client.get(f"/problems/{slug}")
        assert explained.status_code == 200, slug
        assert explained.json()["description"] == PROBLEM_TYPES[slug]
