"""Exercise cautions (issue 15): seeded, served, filtered, edited by admins, and kept by
the seed, which adds them only where no admin ever chose them."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.domain.screening import CAUTIONS
from api.models import Exercise, ExerciseRevision
from api.schemas.catalog import Caution
from api.schemas.enums import values_of
from api.schemas.exercise_in import EXERCISE_EXAMPLE, ExerciseIn
from api.services.catalog_store import checksum, written_form
from api.services.seed import SeedReport, apply_seed, load_seed
from tests.conftest import Account, AccountFactory

pytestmark = pytest.mark.usefixtures("seeded")

# Typed by hand from the brief (CLINICAL.md, Screening), not from seed_data/.
SEEDED_CAUTIONS: dict[str, list[str]] = {
    "warm-up": [],
    "lat-pulldown": [],
    "wide-dumbbell-row": [],
    "lying-lateral-leg-raise": [],
    "back-extension": ["prone-lying", "spinal-extension"],
    "superman": ["prone-lying", "spinal-extension"],
    "partial-curl": ["spinal-flexion", "supine-lying"],
    "knee-hug": ["spinal-flexion", "supine-lying"],
    "lower-back-rotational-stretch": ["spinal-rotation", "supine-lying"],
    "glute-bridge": ["supine-lying"],
}
# "Glute bridge short holds only" (CLINICAL.md, pregnancy past 12 weeks).
GLUTE_BRIDGE_LIMITS = {"supine-lying": {"hold_seconds": 3}}
ALL = set(SEEDED_CAUTIONS)


@pytest.fixture
def admin(make_account: AccountFactory) -> Account:
    return make_account("admin")


def _slugs(client: TestClient, params: list[tuple[str, str]]) -> set[str]:
    response = client.get("/v1/exercises", params=[("limit", "100"), *params])
    assert response.status_code == 200, response.text
    return {item["slug"] for item in response.json()["items"]}


def _patch(client: TestClient, admin: Account, slug: str, body: dict[str, Any]) -> Any:
    etag = client.get(f"/v1/exercises/{slug}").headers["etag"]
    return client.patch(
        f"/v1/exercises/{slug}", headers={**admin.headers, "If-Match": etag}, json=body
    )


def _revisions(client: TestClient, admin: Account, slug: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/exercises/{slug}/revisions", headers=admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_the_schema_offers_exactly_the_fixed_set() -> None:
    assert values_of(Caution) == CAUTIONS


# --- reading ------------------------------------------------------------------------------


def served_limits(limits: dict[str, dict[str, int]]) -> dict[str, dict[str, int | None]]:
    """As served: every field of a limit, null where it sets none."""
    fields = ("sets", "reps", "hold_seconds")
    return {caution: {f: limit.get(f) for f in fields} for caution, limit in limits.items()}


def test_each_seeded_exercise_shows_its_cautions(client: TestClient) -> None:
    items = client.get("/v1/exercises").json()["items"]
    assert {i["slug"]: i["cautions"] for i in items} == SEEDED_CAUTIONS
    for item in items:
        expected = GLUTE_BRIDGE_LIMITS if item["slug"] == "glute-bridge" else {}
        assert item["caution_limits"] == served_limits(expected), item["slug"]
        detail = client.get(f"/v1/exercises/{item['slug']}").json()
        assert (detail["cautions"], detail["caution_limits"]) == (
            item["cautions"],
            item["caution_limits"],
        )


@pytest.mark.parametrize(
    ("free", "left_out"),
    [
        (["spinal-flexion"], {"partial-curl", "knee-hug"}),
        # What osteoporosis rules out.
        (
            ["spinal-flexion", "spinal-rotation"],
            {"partial-curl", "knee-hug", "lower-back-rotational-stretch"},
        ),
        (["prone-lying"], {"superman", "back-extension"}),
        (
            ["supine-lying"],
            {"partial-curl", "knee-hug", "lower-back-rotational-stretch", "glute-bridge"},
        ),
        (["spinal-extension", "spinal-extension"], {"superman", "back-extension"}),
        (list(CAUTIONS), {slug for slug, cautions in SEEDED_CAUTIONS.items() if cautions}),
    ],
)
def test_caution_free_leaves_out_every_exercise_with_any_of_them(
    client: TestClient, free: list[str], left_out: set[str]
) -> None:
    assert _slugs(client, [("caution_free", c) for c in free]) == ALL - left_out


def test_caution_free_combines_with_other_filters(client: TestClient) -> None:
    params = [("category", "stretch"), ("caution_free", "spinal-rotation")]
    assert _slugs(client, params) == {"knee-hug"}
    params = [("max_difficulty", "2"), ("caution_free", "supine-lying")]
    assert _slugs(client, params) == {"warm-up", "lat-pulldown", "lying-lateral-leg-raise"}


@pytest.mark.parametrize("value", ["bending", "Spinal-Flexion", ""])
def test_an_unknown_caution_free_value_is_422_naming_it(client: TestClient, value: str) -> None:
    response = client.get(
        "/v1/exercises", params=[("caution_free", "spinal-flexion"), ("caution_free", value)]
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = [(e["field"], e["in"]) for e in response.json()["errors"]]
    assert fields == [("caution_free.1", "query")]


def test_filtered_lists_have_their_own_etags_and_revalidate(client: TestClient) -> None:
    plain = client.get("/v1/exercises")
    one = client.get("/v1/exercises", params={"caution_free": "prone-lying"})
    both = client.get(
        "/v1/exercises", params=[("caution_free", "prone-lying"), ("caution_free", "supine-lying")]
    )
    swapped = client.get(
        "/v1/exercises", params=[("caution_free", "supine-lying"), ("caution_free", "prone-lying")]
    )
    assert len({plain.headers["etag"], one.headers["etag"], both.headers["etag"]}) == 3
    # The same selection, asked in another order, is the same representation.
    assert swapped.headers["etag"] == both.headers["etag"]
    assert swapped.content == both.content
    again = client.get(
        "/v1/exercises",
        params={"caution_free": "prone-lying"},
        headers={"If-None-Match": one.headers["etag"]},
    )
    assert again.status_code == 304


def test_a_caution_edit_shows_at_once_in_filtered_lists(client: TestClient, admin: Account) -> None:
    params = {"caution_free": "spinal-rotation"}
    first = client.get("/v1/exercises", params=params)
    assert "glute-bridge" in {i["slug"] for i in first.json()["items"]}
    # Asked twice, so the answer is held for replay before the edit.
    assert client.get("/v1/exercises", params=params).content == first.content
    edited = _patch(
        client,
        admin,
        "glute-bridge",
        {"cautions": ["supine-lying", "spinal-rotation"]},
    )
    assert edited.status_code == 200, edited.text
    after = client.get(
        "/v1/exercises", params=params, headers={"If-None-Match": first.headers["etag"]}
    )
    assert after.status_code == 200
    assert "glute-bridge" not in {i["slug"] for i in after.json()["items"]}


# --- admin edits ---------------------------------------------------------------------------


def test_admin_patch_edits_cautions_with_if_match_and_a_revision(
    client: TestClient, admin: Account
) -> None:
    missing = client.patch(
        "/v1/exercises/knee-hug", headers=admin.headers, json={"cautions": ["spinal-flexion"]}
    )
    assert missing.status_code == 428
    before = client.get("/v1/exercises/knee-hug")
    stale = client.patch(
        "/v1/exercises/knee-hug",
        headers={**admin.headers, "If-Match": '"stale"'},
        json={"cautions": ["spinal-flexion"]},
    )
    assert stale.status_code == 412

    edited = _patch(client, admin, "knee-hug", {"cautions": ["spinal-flexion"]})
    assert edited.status_code == 200, edited.text
    assert edited.json()["cautions"] == ["spinal-flexion"]
    assert edited.json()["version"] == 2
    assert edited.headers["etag"] != before.headers["etag"]
    served = client.get("/v1/exercises/knee-hug").json()
    assert served["cautions"] == ["spinal-flexion"]
    assert served["summary"] == before.json()["summary"]

    latest = _revisions(client, admin, "knee-hug")[0]
    assert (latest["action"], latest["source"], latest["actor_id"]) == ("update", "api", admin.id)
    assert latest["before"]["cautions"] == ["spinal-flexion", "supine-lying"]
    assert latest["after"]["cautions"] == ["spinal-flexion"]
    assert latest["after"]["caution_limits"] == {}


def test_admin_put_sets_cautions_and_limits(client: TestClient, admin: Account) -> None:
    item = client.get("/v1/exercises/lying-lateral-leg-raise")
    body = {
        key: item.json()[key]
        for key in ("slug", "name", "category", "summary", "aliases", "position", "steps")
    }
    body |= {
        "dose": item.json()["dose"],
        "difficulty": item.json()["difficulty"],
        "muscles": {
            role: [m["slug"] for m in item.json()["muscles"] if m["role"] == role]
            for role in ("primary", "secondary")
        },
        "cautions": ["supine-lying"],
        "caution_limits": {"supine-lying": {"sets": 1, "reps": 8}},
    }
    response = client.put(
        "/v1/exercises/lying-lateral-leg-raise",
        headers={**admin.headers, "If-Match": item.headers["etag"]},
        json=body,
    )
    assert response.status_code == 200, response.text
    assert response.json()["cautions"] == ["supine-lying"]
    assert response.json()["caution_limits"] == served_limits(
        {"supine-lying": {"sets": 1, "reps": 8}}
    )
    latest = _revisions(client, admin, "lying-lateral-leg-raise")[0]
    assert latest["before"]["cautions"] == []
    assert latest["after"]["caution_limits"] == {"supine-lying": {"sets": 1, "reps": 8}}


def test_admin_creates_an_exercise_with_cautions(client: TestClient, admin: Account) -> None:
    body = copy.deepcopy(EXERCISE_EXAMPLE)
    body["cautions"] = ["spinal-extension"]
    created = client.post("/v1/exercises", headers=admin.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["cautions"] == ["spinal-extension"]
    assert "bird-dog" not in _slugs(client, [("caution_free", "spinal-extension")])
    assert _revisions(client, admin, "bird-dog")[0]["after"]["cautions"] == ["spinal-extension"]


BAD_CAUTIONS: list[tuple[dict[str, Any], str]] = [
    ({"cautions": ["bending"]}, "cautions.0"),
    ({"cautions": ["spinal-flexion", "twisting"]}, "cautions.1"),
    ({"cautions": ["supine-lying", "supine-lying"]}, "cautions"),
    ({"cautions": "supine-lying"}, "cautions"),
    ({"cautions": None}, "cautions"),
    ({"caution_limits": None}, "caution_limits"),
    ({"cautions": [], "caution_limits": {"supine-lying": {"hold_seconds": 3}}}, "caution_limits"),
    (
        {"cautions": ["prone-lying"], "caution_limits": {"prone-lying": {"hold_seconds": 3}}},
        "caution_limits",
    ),
    ({"caution_limits": {"supine-lying": {}}}, "caution_limits.supine-lying"),
    (
        {"caution_limits": {"supine-lying": {"hold_seconds": 0}}},
        "caution_limits.supine-lying.hold_seconds",
    ),
    ({"caution_limits": {"supine-lying": {"sets": 11}}}, "caution_limits.supine-lying.sets"),
    (
        {"caution_limits": {"supine-lying": {"reps": None}}},
        "caution_limits.supine-lying",
    ),
    (
        {"caution_limits": {"supine-lying": {"minutes": 2}}},
        "caution_limits.supine-lying.minutes",
    ),
    # Emptying the cautions leaves the glute bridge's limit without its caution.
    ({"cautions": []}, "caution_limits"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CAUTIONS)
def test_bad_cautions_in_a_patch_are_422_and_change_nothing(
    client: TestClient, admin: Account, body: dict[str, Any], field: str
) -> None:
    before = client.get("/v1/exercises/glute-bridge")
    revisions = len(_revisions(client, admin, "glute-bridge"))
    response = _patch(client, admin, "glute-bridge", body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    after = client.get("/v1/exercises/glute-bridge")
    assert after.headers["etag"] == before.headers["etag"]
    assert after.json() == before.json()
    assert len(_revisions(client, admin, "glute-bridge")) == revisions


@pytest.mark.parametrize(
    ("body", "field"), [(b, f) for b, f in BAD_CAUTIONS if b.get("cautions") != []]
)
def test_bad_cautions_in_a_new_exercise_are_422(
    client: TestClient, admin: Account, body: dict[str, Any], field: str
) -> None:
    new = copy.deepcopy(EXERCISE_EXAMPLE) | {"cautions": ["supine-lying"]} | body
    listed = client.get("/v1/exercises").headers["etag"]
    response = client.post("/v1/exercises", headers=admin.headers, json=new)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/exercises/bird-dog").status_code == 404
    assert client.get("/v1/exercises").headers["etag"] == listed


def test_a_limit_goes_with_its_caution_in_one_patch(client: TestClient, admin: Account) -> None:
    cleared = _patch(client, admin, "glute-bridge", {"cautions": [], "caution_limits": {}})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["cautions"], cleared.json()["caution_limits"]) == ([], {})


# --- the seed --------------------------------------------------------------------------------


def _reseed(db: Engine) -> SeedReport:
    with Session(db) as s:
        return apply_seed(s, load_seed())


def test_the_seed_keeps_an_admins_caution_edit(
    client: TestClient, admin: Account, db: Engine
) -> None:
    assert _patch(client, admin, "knee-hug", {"cautions": ["spinal-flexion"]}).status_code == 200
    report = _reseed(db)
    assert report.exercises.conflicts == ["knee-hug"]
    assert report.cautions_added == []
    assert client.get("/v1/exercises/knee-hug").json()["cautions"] == ["spinal-flexion"]


def test_the_seed_keeps_cautions_an_admin_cleared(
    client: TestClient, admin: Account, db: Engine
) -> None:
    cleared = _patch(client, admin, "glute-bridge", {"cautions": [], "caution_limits": {}})
    assert cleared.status_code == 200
    report = _reseed(db)
    assert report.exercises.conflicts == ["glute-bridge"]
    assert report.cautions_added == []
    assert not report.changed
    served = client.get("/v1/exercises/glute-bridge").json()
    assert (served["cautions"], served["caution_limits"]) == ([], {})


def _old_form(entry: ExerciseIn) -> dict[str, Any]:
    """The written form as the code before cautions compared it."""
    data = entry.model_dump(mode="json", exclude={"cautions", "caution_limits"})
    for group in ("muscles", "equipment"):
        data[group] = {k: sorted(v) for k, v in data[group].items()}
    return data


def _old_checksum(entry: ExerciseIn) -> str:
    blob = json.dumps(_old_form(entry), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def test_an_entry_without_cautions_keeps_the_checksum_of_the_old_code() -> None:
    for entry in load_seed().exercises:
        bare = entry.model_copy(update={"cautions": [], "caution_limits": {}})
        assert checksum(bare) == _old_checksum(bare), entry.slug
    with_some = next(e for e in load_seed().exercises if e.slug == "superman")
    assert checksum(with_some) != _old_checksum(with_some)


def _as_before_cautions(
    db: Engine, *, admin_edit: str | None = None, only: set[str] | None = None
) -> None:
    """Every row (or `only` these) as the code before cautions left it: no cautions, its
    seed checksum taken without them, and (`admin_edit`) one row edited by an admin back
    then."""
    with Session(db) as s:
        for row in s.exec(select(Exercise)).all():
            if only is not None and row.slug not in only:
                continue
            before = _old_form(written_form(s, row))
            row.cautions, row.caution_limits = [], {}
            row.seed_checksum = _old_checksum(written_form(s, row))
            if row.slug == admin_edit:
                row.summary = "Edited by an admin before cautions existed."
                row.version += 1
                after = _old_form(written_form(s, row))
                assert row.id is not None
                s.add(
                    ExerciseRevision(
                        exercise_id=row.id,
                        version=row.version,
                        action="update",
                        source="api",
                        before={**before, "archived": False},
                        after={**after, "archived": False},
                    )
                )
            s.add(row)
        s.commit()


def test_rows_seeded_by_the_old_code_get_their_cautions(client: TestClient, db: Engine) -> None:
    _as_before_cautions(db)
    assert {i["cautions"] == [] for i in client.get("/v1/exercises").json()["items"]} == {True}
    report = _reseed(db)
    cautioned = sorted(slug for slug, cautions in SEEDED_CAUTIONS.items() if cautions)
    assert sorted(report.exercises.updated) == cautioned
    assert report.exercises.conflicts == []
    items = client.get("/v1/exercises").json()["items"]
    assert {i["slug"]: i["cautions"] for i in items} == SEEDED_CAUTIONS
    assert client.get("/v1/exercises/glute-bridge").json()["caution_limits"] == (
        served_limits(GLUTE_BRIDGE_LIMITS)
    )
    assert not _reseed(db).changed


def test_an_old_admin_edit_without_cautions_gets_only_the_cautions(
    client: TestClient, admin: Account, db: Engine
) -> None:
    _as_before_cautions(db, admin_edit="superman")
    before = client.get("/v1/exercises/superman")
    report = _reseed(db)
    assert report.exercises.conflicts == ["superman"]
    assert report.cautions_added == ["superman"]
    assert any("superman" in line and "cautions added" in line for line in report.lines())
    after = client.get("/v1/exercises/superman", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    served = after.json()
    assert served["cautions"] == SEEDED_CAUTIONS["superman"]
    assert served["summary"] == "Edited by an admin before cautions existed."
    assert served["version"] == before.json()["version"] + 1
    assert {k: v for k, v in served.items() if k not in ("cautions", "version", "updated_at")} == {
        k: v for k, v in before.json().items() if k not in ("cautions", "version", "updated_at")
    }
    latest = _revisions(client, admin, "superman")[0]
    assert (latest["source"], latest["action"]) == ("seed", "update")
    assert latest["before"]["cautions"] == []
    assert latest["after"]["cautions"] == sorted(SEEDED_CAUTIONS["superman"])
    assert latest["after"]["summary"] == served["summary"]
    # Added once: the row is still the admin's, and now has cautions.
    again = _reseed(db)
    assert again.cautions_added == []
    assert not again.changed


def test_cautions_added_alone_reach_the_served_catalog(client: TestClient, db: Engine) -> None:
    """A seed run whose only change is an edited row's cautions still moves the catalog's
    version, so every process serves (and screens with) them at once."""
    _as_before_cautions(db, admin_edit="superman", only={"superman"})
    assert client.get("/v1/exercises/superman").json()["cautions"] == []
    report = _reseed(db)
    assert (report.cautions_added, report.exercises.updated) == (["superman"], [])
    served = client.get("/v1/exercises/superman").json()
    assert served["cautions"] == SEEDED_CAUTIONS["superman"]


def test_an_edit_of_other_fields_does_not_choose_the_cautions(
    client: TestClient, admin: Account, db: Engine
) -> None:
    """An admin who edited the summary of a row that had no cautions yet (between the
    migration and the next seed) chose nothing about them: the seed still adds them."""
    _as_before_cautions(db)
    assert _patch(client, admin, "partial-curl", {"summary": "Edited."}).status_code == 200
    report = _reseed(db)
    assert report.cautions_added == ["partial-curl"]
    served = client.get("/v1/exercises/partial-curl").json()
    assert (served["summary"], served["cautions"]) == ("Edited.", SEEDED_CAUTIONS["partial-curl"])


def test_force_still_overwrites_everything(client: TestClient, admin: Account, db: Engine) -> None:
    assert _patch(client, admin, "knee-hug", {"cautions": []}).status_code == 200
    with Session(db) as s:
        forced = apply_seed(s, load_seed(), force=True)
    assert forced.exercises.updated == ["knee-hug"]
    assert forced.cautions_added == []
    assert client.get("/v1/exercises/knee-hug").json()["cautions"] == SEEDED_CAUTIONS["knee-hug"]
    assert _revisions(client, admin, "knee-hug")[0]["source"] == "seed"
