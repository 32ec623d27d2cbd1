"""The docs pages work offline: every asset they load is served by the API itself."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.openapi import EXTRA_SCHEMAS
from api.schemas.enums import refer_to_named_enums

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_load_only_local_assets(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assets = ASSET.findall(response.text)
    assert assets, "the page loads no script or stylesheet"
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from outside this server"
        assert client.get(url).status_code == 200, url
    # No URL anywhere in the page (fonts, validator badge) points off the machine.
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)", response.text)


def test_swagger_ui_does_not_call_the_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_openapi_document_is_served(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["info"]["title"] == "Backstrong API"
    assert "/healthz" in doc["paths"]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_forbid_outside_requests(client: TestClient, page: str) -> None:
    csp = client.get(page).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    for name in ("default-src", "connect-src", "img-src", "script-src", "style-src"):
        sources = directives[name].split()
        assert "'self'" in sources
        assert not [s for s in sources if s.startswith("http") or s == "*"], (name, sources)


def test_vendored_bundles_load_nothing_from_a_cdn() -> None:
    from tests.conftest import project_root

    static = project_root() / "api" / "static"
    for bundle in ("redoc/redoc.standalone.js", "swagger-ui/swagger-ui-bundle.js"):
        text = (static / bundle).read_text(encoding="utf-8")
        for host in ("cdn.redoc.ly", "cdn.jsdelivr.net", "unpkg.com", "fonts.googleapis.com"):
            assert host not in text, (bundle, host)


def test_route_checked_headers_are_documented_as_required(client: TestClient) -> None:
    upload = client.get("/openapi.json").json()["paths"]["/v1/wearable/uploads"]["post"]
    (key,) = [p for p in upload["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["required"] is True
    assert key["schema"]["minLength"] == 1


def test_shapes_documented_beside_the_routes_agree_with_the_routes_own(
    client: TestClient,
) -> None:
    """A shape added to the document for a free-form field (api/openapi.py EXTRA_SCHEMAS)
    may refer to a shape a route already documents under the same name: it must be the
    same shape, or its `$ref` would silently point at another one."""
    components = client.get("/openapi.json").json()["components"]["schemas"]
    compared = 0
    for model in EXTRA_SCHEMAS:
        schema = refer_to_named_enums(
            model.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for name, sub in schema.pop("$defs", {}).items():
            served = components[name]
            assert set(served.get("properties", {})) == set(sub.get("properties", {})), name
            assert served.get("type") == sub.get("type"), name
            compared += 1
        assert components[model.__name__] == schema, model
    assert compared > 0


def test_no_enum_is_written_out_twice(client: TestClient) -> None:
    """Client generators make one type per inline enum: an enum used in more than one
    place is one named component (api/schemas/enums.py), referred to everywhere."""
    doc = client.get("/openapi.json").json()
    seen: dict[tuple[str, ...], list[str]] = {}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if "enum" in node:
                seen.setdefault(tuple(node["enum"]), []).append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(doc, "")
    repeated = {values: places for values, places in seen.items() if len(places) > 1}
    assert not repeated, repeated
    schemas = doc["components"]["schemas"]
    for name in ("AdviceStatus", "ExerciseAction", "Phase", "Category", "Caution"):
        assert schemas[name]["enum"] and schemas[name]["description"], name
    assert "x-named-enum" not in json.dumps(doc)


def test_headers_a_client_reads_are_declared(client: TestClient) -> None:
    """A generated client reads only declared headers: ETag for the log correction,
    Retry-After on 429 and 503, the replay marker, WWW-Authenticate on 401, and the
    request id every answer carries."""
    doc = client.get("/openapi.json").json()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                declared = response.get("headers", {})
                assert "X-Request-ID" in declared, (method, path, status)
                if status in ("429", "503"):
                    assert "Retry-After" in declared, (method, path, status)
                if status == "401":
                    assert "WWW-Authenticate" in declared, (method, path, status)
    log = doc["paths"]["/v1/sessions/{session_id}/log"]["put"]["responses"]["200"]
    assert "ETag" in log["headers"]
    upload = doc["paths"]["/v1/wearable/uploads"]["post"]["responses"]["201"]
    assert "Idempotent-Replayed" in upload["headers"]


def test_every_operation_parameter_and_property_is_described(client: TestClient) -> None:
    """What a generated client's users read in their editor (issue 17: 40 of 47
    operations and 395 of 465 properties had no description)."""
    doc = client.get("/openapi.json").json()
    bare = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if not operation.get("description"):
                bare.append(f"{method} {path}")
            for p in operation.get("parameters", []):
                if not (p.get("description") or p.get("schema", {}).get("description")):
                    bare.append(f"{method} {path} {p['in']} {p['name']}")
    for name, schema in doc["components"]["schemas"].items():
        for prop, sub in (schema.get("properties") or {}).items():
            if not sub.get("description"):
                bare.append(f"{name}.{prop}")
    assert not bare


def test_every_request_body_has_an_example(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    missing = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                ref = content.get("schema", {}).get("$ref", "")
                component = schemas.get(ref.rsplit("/", 1)[-1], {})
                if not (content.get("example") or content.get("examples")) and not (
                    component.get("examples") or component.get("example")
                ):
                    missing.append(f"{method} {path} {media}")
    assert not missing


def test_every_tag_is_described_and_the_server_is_named(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    used = {t for item in doc["paths"].values() for op in item.values() for t in op["tags"]}
    described = {t["name"]: t.get("description") for t in doc["tags"]}
    assert used <= set(described) and all(described.values())
    assert [s["url"] for s in doc["servers"]] == ["/"]
