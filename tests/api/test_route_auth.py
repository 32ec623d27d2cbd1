"""Walk the app's route table: every route is public on purpose or demands the right caller.

Routes are read from the app itself, so a route added later is checked too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from api.deps import current_user, device_auth, importer_auth, require_admin, require_clinician
from tests.conftest import Account, AccountFactory

# The only routes anyone may call without credentials.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    # Operations data only (route templates, status counts); kept off the public load
    # balancer, or turned off with BACKSTRONG_METRICS_ENABLED=false (see the README).
    ("GET", "/metrics"),
    ("GET", "/problems/{slug}"),
    ("POST", "/v1/auth/register"),
    ("POST", "/v1/auth/token"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    # The catalog is not personal data; public reads let proxies cache it.
    ("GET", "/v1/exercises"),
    ("GET", "/v1/exercises/{slug}"),
    ("GET", "/v1/muscles"),
    ("GET", "/v1/equipment"),
    # The rule table is the same for everyone: why advice says what it says.
    ("GET", "/v1/rules"),
    # The questionnaires and their scoring, the same for everyone.
    ("GET", "/v1/instruments"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
}
AUTH_DEPENDENCIES: dict[Callable[..., Any], str] = {
    current_user: "user",
    require_admin: "admin",
    require_clinician: "clinician",
    device_auth: "device",
    # A platform import: the phone's app with the person's token, or a device token.
    importer_auth: "device_or_user",
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def required_caller(dependant: Dependant) -> str | None:
    """The strictest caller a route's dependencies demand (admin/clinician beat user)."""
    found = {AUTH_DEPENDENCIES[c] for c in _calls(dependant) if c in AUTH_DEPENDENCIES}
    for kind in ("admin", "clinician", "device", "device_or_user", "user"):
        if kind in found:
            return kind
    return None


def operations(app: FastAPI) -> list[tuple[str, str, str | None]]:
    ops = []
    # FastAPI includes routers lazily; this walks the routes as the app serves them.
    for route in iter_route_contexts(app.routes):
        methods = route.methods or set()
        dependant = getattr(route, "dependant", None)
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            caller = required_caller(dependant) if dependant is not None else None
            ops.append((method, str(route.path), caller))
    return ops


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _m: str(uuid.uuid4()), path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    body: dict[str, Any] | None = {} if method in {"POST", "PUT", "PATCH", "DELETE"} else None
    return client.request(method, concrete(path), headers=headers, json=body)


@pytest.fixture
def device_headers(client: TestClient, user: Account) -> dict[str, str]:
    token = client.post("/v1/me/devices", headers=user.headers, json={"name": "W"}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_every_route_is_public_on_purpose_or_needs_a_caller(app: FastAPI) -> None:
    ops = operations(app)
    assert len(ops) > len(PUBLIC)
    for method, path, caller in ops:
        if (method, path) in PUBLIC:
            assert caller is None, f"{method} {path} is listed public but demands {caller}"
        else:
            assert caller is not None, f"{method} {path} declares no caller: add one or list it"
        if path.startswith("/v1/wearable/imports/"):
            assert caller == "device_or_user", f"{method} {path} takes a device or person token"
        elif path.startswith("/v1/wearable/"):
            assert caller == "device", f"{method} {path} must take a device token only"


def test_no_credentials_is_401(client: TestClient, app: FastAPI) -> None:
    for method, path, caller in operations(app):
        if caller is None:
            continue
        response = call(client, method, path, {})
        assert response.status_code == 401, f"{method} {path}"
        assert response.headers["www-authenticate"] == "Bearer", f"{method} {path}"
        assert response.headers["content-type"] == "application/problem+json"


def test_device_token_opens_only_wearable_routes(
    client: TestClient, app: FastAPI, device_headers: dict[str, str]
) -> None:
    for method, path, caller in operations(app):
        if caller in (None, "device"):
            continue
        response = call(client, method, path, device_headers)
        if caller == "device_or_user":
            # In: the request itself is what is wrong (no Idempotency-Key).
            assert response.status_code == 400, f"{method} {path}"
        else:
            assert response.status_code in (401, 403), f"{method} {path}"


def test_person_token_does_not_open_wearable_routes(
    client: TestClient, app: FastAPI, user: Account
) -> None:
    wearable = [(m, p) for m, p, c in operations(app) if c == "device"]
    assert wearable
    for method, path in wearable:
        assert call(client, method, path, user.headers).status_code == 401, f"{method} {path}"


def test_a_person_token_opens_the_imports_and_nothing_a_device_alone_may_call(
    client: TestClient, app: FastAPI, make_account: AccountFactory
) -> None:
    imports = [(m, p) for m, p, c in operations(app) if c == "device_or_user"]
    assert {p for _, p in imports} == {
        "/v1/wearable/imports/health-connect",
        "/v1/wearable/imports/healthkit",
    }
    for role in ("user", "clinician", "admin"):
        account = make_account(role=role)
        for method, path in imports:
            # In: the request itself is what is wrong (no Idempotency-Key).
            answer = call(client, method, path, account.headers)
            assert answer.status_code == 400, f"{role} {method} {path}"


def test_wrong_role_is_403(client: TestClient, app: FastAPI, make_account: AccountFactory) -> None:
    plain = make_account()
    for method, path, caller in operations(app):
        if caller in ("admin", "clinician"):
            response = call(client, method, path, plain.headers)
            assert response.status_code == 403, f"{method} {path}"
            assert response.json()["type"] == "/problems/forbidden"
