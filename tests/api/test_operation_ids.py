"""Operation ids are what client generators name their methods after: short camelCase,
unique, without FastAPI's path-and-method suffix (`list_exercises_v1_exercises_get`)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from api.openapi import operation_id

CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    doc = app.openapi()
    return [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_every_operation_id_is_short_unique_camel_case(app: FastAPI) -> None:
    operations = _operations(app)
    assert len(operations) > 40
    ids = [operation["operationId"] for _, _, operation in operations]
    for (method, path, _), op_id in zip(operations, ids, strict=True):
        assert CAMEL_CASE.match(op_id), f"{method} {path}: {op_id!r} is not camelCase"
        assert "_v1_" not in op_id, f"{method} {path}: {op_id!r}"
    duplicates = sorted(op_id for op_id, n in Counter(ids).items() if n > 1)
    assert not duplicates, f"operation ids used more than once: {duplicates}"


def test_operation_ids_name_what_the_operation_does(app: FastAPI) -> None:
    ids = {(method, path): op["operationId"] for method, path, op in _operations(app)}
    assert ids[("GET", "/v1/exercises")] == "listExercises"
    assert ids[("POST", "/v1/checkins")] == "createCheckin"
    assert ids[("PUT", "/v1/sessions/{session_id}/log")] == "putSessionLog"
    assert ids[("GET", "/v1/advice")] == "getAdvice"
    assert ids[("POST", "/v1/auth/token")] == "signIn"


def test_operations_keep_their_tags(app: FastAPI) -> None:
    for method, path, operation in _operations(app):
        assert operation.get("tags"), f"{method} {path} has no tag"


def test_operation_id_is_the_route_name_in_camel_case() -> None:
    def put_session_log() -> None: ...

    def healthz() -> None: ...

    assert operation_id(APIRoute("/x", put_session_log)) == "putSessionLog"
    assert operation_id(APIRoute("/x", healthz)) == "healthz"
    assert operation_id(APIRoute("/x", healthz, name="get_v2_thing")) == "getV2Thing"


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_links_lead_from_what_is_made_to_what_takes_its_id(app: FastAPI) -> None:
    doc = app.openapi()
    by_id = {op["operationId"]: (path, op) for _, path, op in _operations(app)}
    found: dict[str, list[str]] = {}
    for method, path, operation in _operations(app):
        for status, response in operation["responses"].items():
            for name, link in response.get("links", {}).items():
                target_path, target = by_id[link["operationId"]]
                declared = {
                    (p["in"], p["name"]) for p in target.get("parameters", []) if p["in"] != "query"
                }
                given = {
                    tuple(k.split(".", 1)) if "." in k else ("path", k) for k in link["parameters"]
                }
                # Every path parameter, and only parameters the target declares.
                assert {d for d in declared if d[0] == "path"} <= given <= declared, (path, name)
                for key, expression in link["parameters"].items():
                    if key.startswith("header."):
                        # The ETag this answer sends, for a write that needs If-Match.
                        assert expression == "$response.header.ETag"
                        assert "etag" in {h.lower() for h in response.get("headers", {})}
                        continue
                    # The pointer names a property of this response's body.
                    pointer = expression.removeprefix("$response.body#/").split("/")
                    schema = _resolve(doc, response["content"]["application/json"]["schema"])
                    for key in pointer:
                        schema = _resolve(doc, schema["properties"][key])
                    assert schema.get("type") == "string", (path, name, pointer)
                found.setdefault(f"{method} {path} {status}", []).append(target_path)
    # Everything made with an id that other operations take says where it leads.
    assert set(found) == {
        "POST /v1/checkins 201",
        "POST /v1/outcomes 201",
        "POST /v1/sessions 201",
        "POST /v1/me/devices 201",
        "POST /v1/me/clinicians 201",
        "POST /v1/exercises 201",
    }
