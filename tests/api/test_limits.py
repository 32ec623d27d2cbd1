"""Resource limits: every list is paged with a bounded `limit`, every batch is capped.

List endpoints are found in the route table (GET routes whose answer has `items` and
`next_cursor`), so a list added later is held to the same bound.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.pagination import MAX_LIMIT
from tests.api.test_route_auth import operations
from tests.conftest import AccountFactory, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")

# Reference lists that are the whole (small, admin-curated) catalog vocabulary in one
# answer: they take no `limit`, and their `next_cursor` is always null.
UNPAGED = {"/v1/muscles", "/v1/equipment"}
# Values for path parameters of list routes.
PATH_VALUES = {"slug": "superman"}


def list_routes(app: FastAPI) -> dict[str, str | None]:
    """GET path -> the caller it needs, for every route answering with a page."""
    doc = app.openapi()
    schemas = doc["components"]["schemas"]
    callers = {p: c for m, p, c in operations(app) if m == "GET"}
    found = {}
    for path, item in doc["paths"].items():
        schema = item.get("get", {}).get("responses", {}).get("200", {})
        ref = schema.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        props = schemas[ref.rsplit("/", 1)[1]].get("properties", {}) if ref else {}
        if {"items", "next_cursor"} <= set(props):
            found[path] = callers[path]
    return found


def test_lists_declare_a_bounded_limit(app: FastAPI) -> None:
    lists = list_routes(app)
    assert len(lists) >= 10
    assert set(lists) >= UNPAGED
    for path in lists:
        params = {p["name"]: p for p in app.openapi()["paths"][path]["get"].get("parameters", [])}
        if path in UNPAGED:
            assert "limit" not in params, f"{path} is paged now: drop it from UNPAGED"
            continue
        limit = params.get("limit")
        assert limit is not None and limit["in"] == "query", f"{path} has no limit"
        assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, MAX_LIMIT), path


def test_every_list_takes_limit_100_and_refuses_101(
    app: FastAPI, client: TestClient, make_account: AccountFactory
) -> None:
    people = {role: make_account(role) for role in ("user", "clinician", "admin")}
    checked = 0
    for path, caller in sorted(list_routes(app).items()):
        url = re.sub(r"\{([^}]+)\}", lambda m: PATH_VALUES[m.group(1)], path)
        headers = people[caller].headers if caller else {}
        if path in UNPAGED:
            body = client.get(url, headers=headers).json()
            assert body["next_cursor"] is None and body["items"], path
            continue
        ok = client.get(url, headers=headers, params={"limit": MAX_LIMIT})
        assert ok.status_code == 200, (path, ok.text)
        assert set(ok.json()) >= {"items", "next_cursor"}
        for bad in (MAX_LIMIT + 1, 0):
            refused = client.get(url, headers=headers, params={"limit": bad})
            assert refused.status_code == 422, (path, bad, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            errors = refused.json()["errors"]
            assert [(e["field"], e["in"]) for e in errors] == [("limit", "query")], path
        checked += 1
    assert checked >= 10


def test_batches_in_bodies_are_refused_past_their_bound(
    client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    user = make_account()
    session = client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]})
    slug = next(i for i in session.json()["items"] if i["block"] != "warmup")["exercise_slug"]
    entry = {"exercise_slug": slug, "sets_completed": 1, "reps": [1]}
    start = clock.now - timedelta(minutes=20)
    log = {"started_at": start.isoformat(), "ended_at": clock.now.isoformat()}
    many = [f"slug-{i}" for i in range(40)]
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/v1/sessions", {"exclude": many}, "exclude"),
        ("POST", "/v1/sessions", {"focus": many[:8]}, "focus"),
        ("PATCH", "/v1/me", {"equipment": many[:21]}, "equipment"),
        (
            "POST",
            "/v1/checkins",
            {"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": 1,
             "locations": many[:11]},
            "locations",
        ),
        ("PUT", f"/v1/sessions/{session.json()['id']}/log", {**log, "entries": [entry] * 31},
         "entries"),
        (
            "PUT",
            f"/v1/sessions/{session.json()['id']}/log",
            {**log, "entries": [{**entry, "sets_completed": 11, "reps": [1] * 11}]},
            "entries.0.reps",
        ),
    ]  # fmt: skip
    for method, url, body, field in cases:
        response = client.request(method, url, headers=user.headers, json=body)
        assert response.status_code == 422, (url, field, response.text)
        # Unknown slugs would be refused too: the message shows the bound refused them.
        messages = [e["message"] for e in response.json()["errors"] if e["field"] == field]
        assert messages and "at most" in messages[0], (field, response.json())
    stored = client.get(f"/v1/sessions/{session.json()['id']}", headers=user.headers).json()
    assert stored["log"] is None
    assert client.get("/v1/checkins", headers=user.headers).json()["items"] == []
