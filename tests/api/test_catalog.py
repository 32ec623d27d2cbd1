"""The catalog as apps and admins use it: reads, filters, caching, edits, revisions."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session

from api.config import Settings
from api.main import create_app
from api.schemas.exercise_in import EXERCISE_EXAMPLE
from api.services.seed import DEFAULT_SEED_DIR, SeedReport, apply_seed, load_seed
from tests.api.test_catalog_cautions import served_limits
from tests.conftest import Account, AccountFactory

pytestmark = pytest.mark.usefixtures("seeded")

SEED = yaml.safe_load((DEFAULT_SEED_DIR / "exercises.yaml").read_text())["exercises"]
NO_GEAR = {
    "warm-up",
    "lying-lateral-leg-raise",
    "superman",
    "partial-curl",
    "knee-hug",
    "lower-back-rotational-stretch",
    "glute-bridge",
}


@pytest.fixture
def admin(make_account: AccountFactory) -> Account:
    return make_account("admin")


def slugs(client: TestClient, **params: Any) -> set[str]:
    response = client.get("/v1/exercises", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return {item["slug"] for item in response.json()["items"]}


def test_served_catalog_matches_seed_data_field_by_field(client: TestClient) -> None:
    items = client.get("/v1/exercises").json()["items"]
    assert len(items) == 10
    served = {item["slug"]: item for item in items}
    for entry in SEED:
        item = served[entry["slug"]]
        for key in ("name", "category", "summary", "position", "steps", "difficulty"):
            assert item[key] == entry[key], (entry["slug"], key)
        assert item["safety_notes"] == entry["safety_notes"]
        assert item["aliases"] == entry["aliases"]
        assert item["cautions"] == entry["cautions"]
        assert item["caution_limits"] == served_limits(entry.get("caution_limits", {}))
        for key, value in entry["dose"].items():
            assert item["dose"][key] == value, (entry["slug"], key)
        for role in ("primary", "secondary"):
            got = {m["slug"] for m in item["muscles"] if m["role"] == role}
            assert got == set(entry["muscles"][role]), (entry["slug"], role)
        assert all(m["location"] for m in item["muscles"])
        required = {e["slug"] for e in item["equipment"] if not e["optional"]}
        optional = {e["slug"] for e in item["equipment"] if e["optional"]}
        assert required == set(entry["equipment"]["required"])
        assert optional == set(entry["equipment"]["optional"])
        for link in ("easier", "harder"):
            expected = entry.get(link)
            got = item[link]
            assert (got and got["slug"]) == expected, (entry["slug"], link)
            if got:
                assert got["href"] == f"/v1/exercises/{expected}"
        assert item["archived"] is False
        assert item["version"] == 1
        # The detail is the same record.
        assert client.get(f"/v1/exercises/{entry['slug']}").json() == item


def test_list_order_is_warmup_strength_stretch(client: TestClient) -> None:
    order = [i["slug"] for i in client.get("/v1/exercises").json()["items"]]
    assert order[0] == "warm-up"
    assert order[-2:] == ["knee-hug", "lower-back-rotational-stretch"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "warmup"}, {"warm-up"}),
        ({"category": "stretch"}, {"knee-hug", "lower-back-rotational-stretch"}),
        ({"muscle": "lats"}, {"lat-pulldown", "wide-dumbbell-row"}),
        ({"muscle": "hip-abductors"}, {"lying-lateral-leg-raise"}),
        (
            {"muscle": "core"},
            {
                "lat-pulldown",
                "back-extension",
                "lying-lateral-leg-raise",
                "partial-curl",
                "wide-dumbbell-row",
                "lower-back-rotational-stretch",
                "glute-bridge",
            },
        ),
        ({"equipment": "none"}, NO_GEAR),
        ({"equipment": "mat"}, NO_GEAR),
        ({"equipment": "dumbbells"}, NO_GEAR | {"wide-dumbbell-row"}),
        (
            {"equipment": "resistance-band,exercise-ball"},
            NO_GEAR | {"lat-pulldown", "back-extension"},
        ),
        (
            {"equipment": ["resistance-band", "exercise-ball"]},
            NO_GEAR | {"lat-pulldown", "back-extension"},
        ),
        ({"max_difficulty": 1}, {"warm-up", "knee-hug", "lower-back-rotational-stretch"}),
        (
            {"category": "strength", "max_difficulty": 2},
            {"lat-pulldown", "lying-lateral-leg-raise", "partial-curl", "glute-bridge"},
        ),
        (
            {"muscle": "erector-spinae", "equipment": "none"},
            {"superman", "knee-hug", "lower-back-rotational-stretch", "glute-bridge"},
        ),
        ({"q": "BRIDGE"}, {"glute-bridge"}),
        ({"q": "hip"}, {"glute-bridge", "lying-lateral-leg-raise"}),
        ({"q": "curl-up"}, {"partial-curl"}),
        ({"q": "  Superman "}, {"superman"}),
        ({"q": "zzz"}, set()),
        (
            {"caution_free": "prone-lying", "equipment": "none", "category": "strength"},
            {"lying-lateral-leg-raise", "partial-curl", "glute-bridge"},
        ),
    ],
)
def test_filters_return_exactly_the_right_slugs(
    client: TestClient, params: dict[str, Any], expected: set[str]
) -> None:
    assert slugs(client, **params) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "cardio"}, "category"),
        ({"muscle": "biceps"}, "muscle"),
        ({"equipment": "treadmill"}, "equipment"),
        ({"max_difficulty": 9}, "max_difficulty"),
        ({"caution_free": "bending"}, "caution_free.0"),
        ({"limit": 0}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
    ],
)
def test_bad_filters_are_422_naming_the_field(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    response = client.get("/v1/exercises", params=params)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


def test_keyset_pages_cover_the_catalog_once(client: TestClient) -> None:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/exercises", params=params).json()
        seen += [i["slug"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 10 == len(set(seen))
    assert seen == [i["slug"] for i in client.get("/v1/exercises").json()["items"]]


def test_muscles_and_equipment(client: TestClient) -> None:
    muscles = client.get("/v1/muscles").json()["items"]
    assert {m["slug"] for m in muscles} == {
        "lats",
        "rhomboids",
        "traps",
        "erector-spinae",
        "core",
        "glutes",
        "hip-abductors",
    }
    equipment = client.get("/v1/equipment").json()["items"]
    assert {e["slug"] for e in equipment} == {
        "mat",
        "chair",
        "resistance-band",
        "exercise-ball",
        "dumbbells",
    }


@pytest.mark.parametrize("path", ["/v1/exercises", "/v1/exercises/superman", "/v1/muscles"])
def test_etag_and_304(client: TestClient, path: str) -> None:
    first = client.get(path)
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert "max-age" in first.headers["cache-control"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
    # A different query is a different representation.
    if path == "/v1/exercises":
        assert client.get(path, params={"category": "stretch"}).headers["etag"] != etag


def test_an_edit_changes_etags_and_content_at_once(client: TestClient, admin: Account) -> None:
    list_etag = client.get("/v1/exercises").headers["etag"]
    detail = client.get("/v1/exercises/superman")
    new_steps = [*detail.json()["steps"], "Breathe out as you lift."]
    edited = client.patch(
        "/v1/exercises/superman",
        headers={**admin.headers, "If-Match": detail.headers["etag"]},
        json={"steps": new_steps},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["steps"] == new_steps
    assert edited.json()["version"] == 2
    assert edited.headers["etag"] != detail.headers["etag"]

    refreshed = client.get(
        "/v1/exercises/superman", headers={"If-None-Match": detail.headers["etag"]}
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["steps"] == new_steps
    assert refreshed.headers["etag"] == edited.headers["etag"]
    listed = client.get("/v1/exercises", headers={"If-None-Match": list_etag})
    assert listed.status_code == 200
    assert listed.headers["etag"] != list_etag


def test_every_api_process_sees_an_edit(
    client: TestClient, admin: Account, settings: Settings, db: Engine
) -> None:
    # A second app with its own cache stands in for another API process.
    with TestClient(create_app(settings, engine=db)) as other:
        before = other.get("/v1/exercises/knee-hug")
        etag = before.headers["etag"]
        client.patch(
            "/v1/exercises/knee-hug",
            headers={**admin.headers, "If-Match": etag},
            json={"name": "Double Knee Hug"},
        )
        after = other.get("/v1/exercises/knee-hug", headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.json()["name"] == "Double Knee Hug"


def test_if_match_is_required_and_checked(app: FastAPI, client: TestClient, admin: Account) -> None:
    # The document says what the server does (it said the header was optional).
    for method in ("put", "patch"):
        parameters = app.openapi()["paths"]["/v1/exercises/{slug}"][method]["parameters"]
        (if_match,) = [p for p in parameters if p["name"].lower() == "if-match"]
        assert if_match["required"] is True, method
    current = client.get("/v1/exercises/glute-bridge")
    etag = current.headers["etag"]
    body = {"name": "Bridge"}

    missing = client.patch("/v1/exercises/glute-bridge", headers=admin.headers, json=body)
    assert missing.status_code == 428
    assert missing.json()["type"] == "/problems/precondition-required"

    stale = client.patch(
        "/v1/exercises/glute-bridge", headers={**admin.headers, "If-Match": '"old"'}, json=body
    )
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == etag
    weak = client.patch(
        "/v1/exercises/glute-bridge", headers={**admin.headers, "If-Match": f"W/{etag}"}, json=body
    )
    assert weak.status_code == 412
    assert client.get("/v1/exercises/glute-bridge").json()["name"] == "Glute Bridge"

    ok = client.patch(
        "/v1/exercises/glute-bridge", headers={**admin.headers, "If-Match": etag}, json=body
    )
    assert ok.status_code == 200
    # The second admin, holding the old ETag, is stopped instead of overwriting.
    second = client.patch(
        "/v1/exercises/glute-bridge",
        headers={**admin.headers, "If-Match": etag},
        json={"name": "Hip Bridge"},
    )
    assert second.status_code == 412
    assert client.get("/v1/exercises/glute-bridge").json()["name"] == "Bridge"


def _put_body(client: TestClient, slug: str) -> dict[str, Any]:
    """The written form of an exercise, rebuilt from its public record."""
    item = client.get(f"/v1/exercises/{slug}").json()
    return {
        "slug": slug,
        "name": item["name"],
        "category": item["category"],
        "summary": item["summary"],
        "aliases": item["aliases"],
        "position": item["position"],
        "steps": item["steps"],
        "dose": item["dose"],
        "difficulty": item["difficulty"],
        "muscles": {
            role: [m["slug"] for m in item["muscles"] if m["role"] == role]
            for role in ("primary", "secondary")
        },
        "equipment": {
            "required": [e["slug"] for e in item["equipment"] if not e["optional"]],
            "optional": [e["slug"] for e in item["equipment"] if e["optional"]],
        },
        "easier": item["easier"] and item["easier"]["slug"],
        "harder": item["harder"] and item["harder"]["slug"],
        "safety_notes": item["safety_notes"],
        "cautions": item["cautions"],
        "caution_limits": item["caution_limits"],
        "media": item["media"],
    }


def test_put_replaces_and_needs_if_match(client: TestClient, admin: Account) -> None:
    body = _put_body(client, "partial-curl")
    body["dose"] = {**body["dose"], "sets": 2}
    assert (
        client.put("/v1/exercises/partial-curl", headers=admin.headers, json=body).status_code
        == 428
    )
    etag = client.get("/v1/exercises/partial-curl").headers["etag"]
    response = client.put(
        "/v1/exercises/partial-curl", headers={**admin.headers, "If-Match": etag}, json=body
    )
    assert response.status_code == 200, response.text
    assert response.json()["dose"]["sets"] == 2
    # The whole exercise came back as it was, cautions included.
    assert response.json()["cautions"] == ["spinal-flexion", "supine-lying"]
    renamed = {**body, "slug": "crunch"}
    etag = response.headers["etag"]
    refused = client.put(
        "/v1/exercises/partial-curl", headers={**admin.headers, "If-Match": etag}, json=renamed
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "slug"


def test_create_archive_restore_and_revisions(client: TestClient, admin: Account) -> None:
    created = client.post("/v1/exercises", headers=admin.headers, json=EXERCISE_EXAMPLE)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/exercises/bird-dog"
    assert created.json()["version"] == 1
    assert "bird-dog" in slugs(client)
    duplicate = client.post("/v1/exercises", headers=admin.headers, json=EXERCISE_EXAMPLE)
    assert duplicate.status_code == 409

    archived = client.delete("/v1/exercises/bird-dog", headers=admin.headers)
    assert archived.status_code == 204
    assert "bird-dog" not in slugs(client)
    assert "bird-dog" in slugs(client, include_archived=True)
    # History still resolves the exercise.
    kept = client.get("/v1/exercises/bird-dog")
    assert kept.status_code == 200
    assert kept.json()["archived"] is True

    restored = client.patch(
        "/v1/exercises/bird-dog",
        headers={**admin.headers, "If-Match": kept.headers["etag"]},
        json={"archived": False},
    )
    assert restored.status_code == 200
    assert "bird-dog" in slugs(client)

    revisions = client.get("/v1/exercises/bird-dog/revisions", headers=admin.headers).json()
    assert [r["action"] for r in revisions["items"]] == ["restore", "archive", "create"]
    assert [r["version"] for r in revisions["items"]] == [3, 2, 1]
    assert all(r["actor_id"] == admin.id for r in revisions["items"])
    assert all(r["source"] == "api" for r in revisions["items"])
    assert revisions["items"][-1]["before"] is None
    assert revisions["items"][0]["before"]["archived"] is True
    assert revisions["items"][0]["after"]["archived"] is False


def test_revision_records_before_and_after(client: TestClient, admin: Account) -> None:
    etag = client.get("/v1/exercises/superman").headers["etag"]
    client.patch(
        "/v1/exercises/superman",
        headers={**admin.headers, "If-Match": etag},
        json={"steps": ["Lie face down.", "Lift."]},
    )
    latest = client.get("/v1/exercises/superman/revisions", headers=admin.headers).json()["items"][
        0
    ]
    assert latest["action"] == "update"
    assert latest["after"]["steps"] == ["Lie face down.", "Lift."]
    assert latest["before"]["steps"][0].startswith("Lie face down on the ground")
    assert latest["version"] == 2
    seeded = client.get("/v1/exercises/superman/revisions", headers=admin.headers).json()["items"][
        -1
    ]
    assert (seeded["action"], seeded["source"], seeded["actor_id"]) == ("create", "seed", None)


def _invalid(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(EXERCISE_EXAMPLE)
    for key, value in changes.items():
        body[key] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_invalid(steps=[]), "steps"),
        (_invalid(steps=["   "]), "steps.0"),
        (_invalid(dose={"sets": 1, "reps_min": 12, "reps_max": 8}), "dose"),
        (_invalid(dose={"sets": 50, "reps_min": 1, "reps_max": 2}), "dose.sets"),
        (
            _invalid(dose={"sets": 1, "hold_seconds": 500, "hold_seconds_max": 600}),
            "dose.hold_seconds",
        ),
        (_invalid(muscles={"primary": ["biceps"], "secondary": []}), "muscles.primary"),
        (_invalid(equipment={"required": ["treadmill"], "optional": []}), "equipment.required"),
        (_invalid(harder="no-such-exercise"), "harder"),
        (_invalid(easier="bird-dog"), "easier"),
        (_invalid(difficulty=6), "difficulty"),
        (_invalid(slug="Bird Dog"), "slug"),
        (_invalid(id=5), "id"),
    ],
)
def test_invalid_exercises_are_refused_by_field(
    client: TestClient, admin: Account, body: dict[str, Any], field: str
) -> None:
    before = client.get("/v1/exercises").headers["etag"]
    response = client.post("/v1/exercises", headers=admin.headers, json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/exercises").headers["etag"] == before


def test_variation_cycles_are_refused(client: TestClient, admin: Account) -> None:
    # back-extension's easier variation is superman; superman's easier cannot be back-extension.
    etag = client.get("/v1/exercises/superman").headers["etag"]
    response = client.patch(
        "/v1/exercises/superman",
        headers={**admin.headers, "If-Match": etag},
        json={"easier": "back-extension"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "easier"
    assert "loop" in response.json()["errors"][0]["message"]
    # Clearing a link is allowed.
    cleared = client.patch(
        "/v1/exercises/superman",
        headers={**admin.headers, "If-Match": etag},
        json={"harder": None},
    )
    assert cleared.status_code == 200
    assert cleared.json()["harder"] is None


def test_patch_null_for_required_fields_is_422(client: TestClient, admin: Account) -> None:
    etag = client.get("/v1/exercises/superman").headers["etag"]
    response = client.patch(
        "/v1/exercises/superman", headers={**admin.headers, "If-Match": etag}, json={"steps": None}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "steps"


def test_seed_keeps_admin_edits_unless_forced(
    client: TestClient, admin: Account, db: Engine
) -> None:
    etag = client.get("/v1/exercises/knee-hug").headers["etag"]
    client.patch(
        "/v1/exercises/knee-hug",
        headers={**admin.headers, "If-Match": etag},
        json={"summary": "Edited by an admin."},
    )
    with Session(db) as s:
        report = apply_seed(s, load_seed())
    assert report.exercises.conflicts == ["knee-hug"]
    assert client.get("/v1/exercises/knee-hug").json()["summary"] == "Edited by an admin."
    with Session(db) as s:
        forced = apply_seed(s, load_seed(), force=True)
    assert forced.exercises.updated == ["knee-hug"]
    assert client.get("/v1/exercises/knee-hug").json()["summary"].startswith("Lying on your back")
    latest = client.get("/v1/exercises/knee-hug/revisions", headers=admin.headers).json()["items"][
        0
    ]
    assert (latest["source"], latest["action"]) == ("seed", "update")
    assert latest["before"]["summary"] == "Edited by an admin."


@pytest.fixture
def statements(db: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db, "before_cursor_execute", count)
    yield seen
    event.remove(db, "before_cursor_execute", count)


def test_list_queries_do_not_grow_with_the_catalog(
    app: FastAPI, client: TestClient, admin: Account, statements: list[str]
) -> None:
    client.get("/v1/exercises")
    small = len(statements)
    for n in range(15):
        body = _invalid(slug=f"extra-{n}", name=f"Extra {n}")
        assert client.post("/v1/exercises", headers=admin.headers, json=body).status_code == 201
    app.state.catalog_cache.clear()  # cold, as in a freshly started process
    statements.clear()
    client.get("/v1/exercises", params={"limit": 100})
    assert len(statements) == small
    statements.clear()
    # Served from the per-process cache: only the version probe runs, on a bare
    # driver connection below SQLAlchemy's statement events.
    client.get("/v1/exercises", params={"limit": 100})
    assert statements == []


def test_seed_report_fixture_seeded_ten(seeded: SeedReport) -> None:
    assert len(seeded.exercises.created) == 10


def test_repeat_reads_are_replayed_and_errors_are_not(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.services import catalog as service

    calls: list[str] = []
    real = service.list_exercises

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("route")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "list_exercises", counting)
    first = client.get("/v1/exercises", params={"category": "stretch"})
    second = client.get("/v1/exercises", params={"category": "stretch"})
    assert calls == ["route"]  # the second answer was replayed
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == first.headers["cache-control"]
    assert second.headers["content-type"] == "application/json"
    revalidated = client.get(
        "/v1/exercises",
        params={"category": "stretch"},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert revalidated.status_code == 304
    assert calls == ["route"]
    # Invalid input is validated every time, never replayed.
    for _ in range(2):
        assert client.get("/v1/exercises", params={"muscle": "nope"}).status_code == 422
    assert calls == ["route", "route", "route"]
