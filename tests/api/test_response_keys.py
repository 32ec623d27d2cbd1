"""Property-level authorization for responses: what each route may show, and no more.

The keys every success response may carry (nested ones as dotted paths) are read from
the OpenAPI document and compared with a committed snapshot, so adding a field to a
response is a reviewed change to tests/api/response_keys.json, never an accident.
No response may carry a secret; the few tokens handed out on purpose are listed.
Real responses are checked against the document too, since some routes send bytes
they render themselves rather than a model FastAPI filters.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import AccountFactory, FakeClock, sign_in

SNAPSHOT = Path(__file__).with_name("response_keys.json")


def update_requested() -> bool:
    """UPDATE_SNAPSHOTS=1 rewrites the snapshot instead of comparing with it: a run that
    cannot fail, so it is refused under CI, and a rewrite is reported as a skip, not a pass."""
    if os.environ.get("UPDATE_SNAPSHOTS") != "1":
        return False
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail("UPDATE_SNAPSHOTS=1 is refused under CI: regenerate locally and commit it")
    return True


# A property named like this is a credential or something derived from one.
SECRET_NAME = re.compile(r"password|secret|hash|token|salt|private|api_?key|otp", re.I)
# The credentials the API hands out on purpose, each where it must (keys as in the snapshot).
HANDED_OUT = {
    "POST /v1/auth/token 200": {"access_token", "refresh_token", "token_type"},
    "POST /v1/auth/refresh 200": {"access_token", "refresh_token", "token_type"},
    # Shown once, at creation; afterwards only its first characters, to tell devices apart.
    "POST /v1/me/devices 201": {"token", "token_prefix"},
    "GET /v1/me/devices 200": {"items[].token_prefix"},
    "GET /v1/me/export 200": {"devices[].token_prefix"},
}


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def key_paths(doc: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> Iterator[str]:
    """Dotted paths of every named property: `items[].exercise_slug`; a map's values
    are under `name{}`."""
    schema = _resolve(doc, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from key_paths(doc, option, prefix)
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from key_paths(doc, sub, path)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from key_paths(doc, schema["additionalProperties"], f"{prefix}{{}}")
    if "items" in schema:
        yield from key_paths(doc, schema["items"], f"{prefix}[]")
    for sub in schema.get("prefixItems", []):
        yield from key_paths(doc, sub, f"{prefix}[]")


def success_schemas(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {})
                # JSON, or FHIR's JSON (the FHIR export): the keys a client reads either way.
                found = content.get("application/json") or content.get("application/fhir+json")
                schema = (found or {}).get("schema")
                if status.startswith("2") and schema is not None:
                    yield f"{method.upper()} {path} {status}", schema


def all_response_schemas(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for content in response.get("content", {}).values():
                    if "schema" in content:
                        yield f"{method.upper()} {path} {status}", content["schema"]


def response_keys(app: FastAPI) -> dict[str, list[str]]:
    doc = app.openapi()
    return {
        name: sorted(set(key_paths(doc, schema))) for name, schema in sorted(success_schemas(doc))
    }


def test_response_keys_match_the_snapshot(app: FastAPI) -> None:
    current = response_keys(app)
    assert len(current) > 30
    if update_requested():
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
        pytest.skip(f"rewrote {SNAPSHOT.name}: review the diff before committing it")
    stored = json.loads(SNAPSHOT.read_text())
    changes = []
    for route in sorted(set(current) | set(stored)):
        added = sorted(set(current.get(route, [])) - set(stored.get(route, [])))
        removed = sorted(set(stored.get(route, [])) - set(current.get(route, [])))
        if added or removed or (route in current) != (route in stored):
            changes.append(f"{route}: added {added}, removed {removed}")
    assert not changes, (
        "Response keys changed. If every added key is meant to be shown to that caller, "
        "regenerate the snapshot with `UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest "
        "tests/api/test_response_keys.py` and commit it:\n" + "\n".join(changes)
    )


@pytest.mark.parametrize("ci", ["true", "1"])
def test_regenerating_the_snapshot_is_refused_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str
) -> None:
    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="refused under CI"):
        update_requested()
    monkeypatch.setenv("CI", "")
    assert update_requested()
    monkeypatch.delenv("UPDATE_SNAPSHOTS")
    assert not update_requested()


def test_no_response_names_a_secret_except_the_tokens_handed_out(app: FastAPI) -> None:
    doc = app.openapi()
    found: dict[str, set[str]] = {}
    for name, schema in all_response_schemas(doc):
        for path in key_paths(doc, schema):
            if SECRET_NAME.search(path.rsplit(".", 1)[-1]):
                found.setdefault(name, set()).add(path)
    assert found == HANDED_OUT


def test_every_success_response_documents_its_keys(app: FastAPI) -> None:
    # A success response with no named keys at all would slip past the snapshot.
    doc = app.openapi()
    for name, schema in success_schemas(doc):
        assert list(key_paths(doc, schema)), f"{name} documents no keys"


# --- real responses ------------------------------------------------------------------------


PRIMITIVE = {"string", "integer", "number", "boolean"}
# The one form every moment is answered in (UTC, `Z`, six fractional digits).
ONE_FORM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
LOOKS_LIKE_A_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _json_types(value: Any) -> set[str]:
    """The JSON Schema types `value` is an instance of."""
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, float):
        return {"number"}
    if isinstance(value, str):
        return {"string"}
    return (
        {"object"} if isinstance(value, dict) else {"array"} if isinstance(value, list) else set()
    )


def check_shape(
    doc: dict[str, Any], schema: dict[str, Any], value: Any, where: str, loose: bool = False
) -> int:
    """Every object in `value` has exactly the keys its schema names. Returns how many
    objects were checked. Within a shape documented for data served as stored (evidence,
    revisions, action details: open objects), `loose`: every required key and only named
    keys, since those shapes name keys a value may leave out."""
    schema = _resolve(doc, schema)
    loose = loose or schema.get("additionalProperties") is True
    if value is not None and schema.get("type") in PRIMITIVE:
        assert schema["type"] in _json_types(value), (where, value, schema["type"])
        if schema.get("format") == "date-time":
            assert ONE_FORM.fullmatch(value), (where, value)
        return 0
    options = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if options:
        if value is None:
            return 0
        kinds = _json_types(value)
        typed = [o for o in options if "type" in _resolve(doc, o)]
        matching = [o for o in typed if _resolve(doc, o)["type"] in kinds]
        assert matching or not typed, (where, value)
        # Several shapes of object (evidence by rule, details by action): one must fit.
        misfits = []
        for option in matching:
            try:
                return check_shape(doc, option, value, where, loose)
            except AssertionError as misfit:
                misfits.append(str(misfit))
        assert not misfits, (where, misfits)
        return 0
    checked = 0
    patterns = schema.get("patternProperties")
    if patterns and isinstance(value, dict):
        # A map keyed by a pattern (slugs): every key fits one, its value that one's shape.
        for key, item in value.items():
            fitting = [sub for pattern, sub in patterns.items() if re.search(pattern, key)]
            assert fitting or schema.get("additionalProperties") is not False, (where, key)
            for sub in fitting:
                checked += check_shape(doc, sub, item, f"{where}.{key}", loose)
        return checked
    if schema.get("additionalProperties") is False and "properties" not in schema:
        assert value == {}, (where, sorted(value))  # documented as an empty object
        return 1
    if "properties" in schema and isinstance(value, dict):
        named, required = set(schema["properties"]), set(schema.get("required", ()))
        if loose:
            assert required <= set(value) <= named, (where, sorted(value))
        else:
            assert set(value) == named, (where, sorted(value))
        checked += 1
        for name, sub in schema["properties"].items():
            if name in value:
                checked += check_shape(doc, sub, value[name], f"{where}.{name}", loose)
    elif isinstance(schema.get("additionalProperties"), dict) and isinstance(value, dict):
        for key, item in value.items():
            checked += check_shape(
                doc, schema["additionalProperties"], item, f"{where}.{key}", loose
            )
    elif "items" in schema and isinstance(value, list):
        for i, item in enumerate(value):
            checked += check_shape(doc, schema["items"], item, f"{where}[{i}]", loose)
    return checked


def _all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_strings(item)
    elif isinstance(value, str):
        yield value


def _all_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_keys(item)


@pytest.mark.usefixtures("seeded")
def test_real_responses_have_exactly_the_documented_keys_and_no_secret(
    app: FastAPI, client: TestClient, make_account: AccountFactory, clock: FakeClock
) -> None:
    doc = app.openapi()
    clinician, user, admin = make_account("clinician"), make_account(), make_account("admin")
    code = client.post("/v1/clinician/invitations", headers=clinician.headers).json()["code"]
    client.post("/v1/me/clinicians", headers=user.headers, json={"code": code})
    device = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"}).json()
    session = client.post("/v1/sessions", headers=user.headers, json={"equipment": ["mat"]})
    sid = session.json()["id"]
    item = next(i for i in session.json()["items"] if i["block"] != "warmup")
    entry = {"exercise_slug": item["exercise_slug"], "sets_completed": 1, "reps": [2]}
    start = clock.now - timedelta(minutes=20)
    log = {"started_at": start.isoformat(), "ended_at": clock.now.isoformat(), "entries": [entry]}
    upload = {
        "device_session_id": "rec-1",
        "session_id": sid,
        "started_at": start.isoformat(),
        "ended_at": clock.now.isoformat(),
        "heart_rate": [{"t": (start + timedelta(seconds=9)).isoformat(), "bpm": 99}],
        "reps": [{"t": (start + timedelta(seconds=9)).isoformat(), "count": 2}],
    }
    device_headers = {"Authorization": f"Bearer {device['token']}", "Idempotency-Key": "u1"}
    checkin = {"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": 9}
    # Reasons with evidence (RF3's severe rest pain above, RF1's flag), then what a
    # clinician and an admin record (their details and revisions are stored free-form).
    earlier = clock.now - timedelta(hours=2)
    flag = {"recorded_at": earlier.isoformat(), "phase": "daily", "pain": 3}
    flag["red_flags"] = {"saddle_numbness": True}
    etag = client.get("/v1/exercises/superman").headers["etag"]
    later_calls = [
        ("POST", "/v1/checkins", user.headers, flag),
        ("GET", "/v1/advice", user.headers, None),
        ("PUT", f"/v1/patients/{user.id}/thresholds", clinician.headers, {"during_pain_max": 4}),
        ("POST", f"/v1/patients/{user.id}/red-flags/resolve", clinician.headers, None),
        ("PUT", f"/v1/patients/{user.id}/routine", clinician.headers, {"cleared": ["superman"]}),
        (
            "PATCH",
            "/v1/exercises/superman",
            {**admin.headers, "If-Match": etag},
            {"summary": "Lift arms and legs together, gently."},
        ),
        ("GET", "/v1/exercises/superman/revisions", admin.headers, None),
        ("GET", "/v1/advice/history", user.headers, None),
    ]
    calls = [
        ("POST", "/v1/sessions", user.headers, {"equipment": ["mat"]}),
        ("PUT", f"/v1/sessions/{sid}/log", user.headers, log),
        ("POST", "/v1/wearable/uploads", device_headers, upload),
        ("POST", "/v1/checkins", user.headers, checkin),
        ("GET", f"/v1/sessions/{sid}", user.headers, None),
        ("GET", "/v1/me", user.headers, None),
        ("GET", "/v1/me/devices", user.headers, None),
        ("GET", "/v1/me/clinicians", user.headers, None),
        ("GET", "/v1/me/uploads", user.headers, None),
        ("GET", "/v1/checkins", user.headers, None),
        ("GET", "/v1/advice", user.headers, None),
        ("GET", "/v1/advice/history", user.headers, None),
        ("GET", "/v1/routine", user.headers, None),
        ("GET", "/v1/progress", user.headers, None),
        ("GET", "/v1/exercises", {}, None),
        ("GET", "/v1/exercises/superman", {}, None),
        ("GET", "/v1/muscles", {}, None),
        ("GET", "/v1/equipment", {}, None),
        ("GET", "/v1/patients", clinician.headers, None),
        ("GET", f"/v1/patients/{user.id}/summary", clinician.headers, None),
        ("GET", "/v1/alerts", clinician.headers, None),
        *later_calls,
        ("GET", "/v1/me/export", user.headers, None),
        ("GET", "/v1/me/export", clinician.headers, None),
    ]
    templates = {
        re.sub(r"\{[^}]+\}", "[^/]+", p): p for p in doc["paths"]
    }  # concrete URL -> the path template the document uses
    checked = 0
    for method, url, headers, body in calls:
        response = client.request(method, url, headers=headers, json=body)
        assert response.status_code in (200, 201), (url, response.text)
        path = next(t for pattern, t in templates.items() if re.fullmatch(pattern, url))
        operation = doc["paths"][path][method.lower()]
        schema = operation["responses"][str(response.status_code)]["content"]["application/json"]
        checked += check_shape(doc, schema["schema"], response.json(), f"{method} {url}")
        # Free-form parts (revisions, export details) are checked by name here.
        secrets = [k for k in _all_keys(response.json()) if SECRET_NAME.search(k)]
        assert set(secrets) <= {"token_prefix"}, (url, secrets)
        assert device["token"] not in response.text and user.refresh_token not in response.text
        assert "$argon2" not in response.text
        # Moments in free-form parts too (details, revisions): one form everywhere.
        moments = [v for v in _all_strings(response.json()) if LOOKS_LIKE_A_MOMENT.match(v)]
        assert all(ONE_FORM.fullmatch(v) for v in moments), (url, moments)
    assert checked > 50


def test_a_new_device_token_is_shown_once(client: TestClient, make_account: AccountFactory) -> None:
    user = make_account()
    created = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith(created.json()["token_prefix"])
    for url in ("/v1/me/devices", "/v1/me/export"):
        assert token not in client.get(url, headers=user.headers).text
    tokens = sign_in(client, user.email, user.password).json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
