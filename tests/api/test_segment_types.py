"""The Health Connect segment types' mapping: seeded, read by anyone signed in, edited by
admins, kept by later seeds, and what imports count by (issue 20)."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.services.health_platforms import load_platform_maps
from api.services.seed import SeedCatalog, apply_seed, load_seed
from tests.api.platform_records import at, health_connect, send
from tests.conftest import Account, AccountFactory

pytestmark = pytest.mark.usefixtures("seeded")

URL = "/v1/health-connect/segment-types"
LEG_RAISE = "EXERCISE_SEGMENT_TYPE_LEG_RAISE"


@pytest.fixture
def admin(make_account: AccountFactory) -> Account:
    return make_account(role="admin")


def mapping(client: TestClient, user: Account) -> dict[str, str | None]:
    listed = client.get(URL, headers=user.headers)
    assert listed.status_code == 200, listed.text
    return {i["segment_type"]: i["exercise_slug"] for i in listed.json()["items"]}


def leg_raises(client: TestClient, device: dict[str, str], key: str) -> dict[str, object]:
    segment = {"startTime": at(60), "endTime": at(180), "segmentType": LEG_RAISE,
               "repetitions": 12}  # fmt: skip
    answer = send(client, device, health_connect(record_id=key, segments=[segment]), key=key)
    assert answer.status_code == 201, answer.text
    found: dict[str, object] = answer.json()
    return found


def test_the_seeded_mapping_is_the_seed_files(client: TestClient, user: Account) -> None:
    assert mapping(client, user) == load_platform_maps().health_connect.segment_types


def test_an_admin_maps_a_type_and_imports_count_by_it_from_then_on(
    client: TestClient, user: Account, admin: Account
) -> None:
    device = {"Authorization": user.headers["Authorization"]}
    before = leg_raises(client, device, "before")
    assert before["summary"]["reps"] == {}  # type: ignore[index]
    put = client.put(
        f"{URL}/{LEG_RAISE}", headers=admin.headers, json={"exercise_slug": "superman"}
    )
    assert put.status_code == 200, put.text
    assert put.json()["edited"] is True and put.json()["updated_by"] is not None
    assert mapping(client, user)[LEG_RAISE] == "superman"
    after = leg_raises(client, device, "after")
    assert after["summary"]["reps"] == {"superman": 12}  # type: ignore[index]
    # A type not known before is added (201), and one mapped to none counts nothing.
    new = f"{URL}/EXERCISE_SEGMENT_TYPE_PLANK"
    made = client.put(new, headers=admin.headers, json={"exercise_slug": None})
    assert made.status_code == 201, made.text
    assert mapping(client, user)["EXERCISE_SEGMENT_TYPE_PLANK"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (f"{URL}/{LEG_RAISE}", {"exercise_slug": "no-such-exercise"}, "exercise_slug"),
        (f"{URL}/{LEG_RAISE}", {"exercise_slug": "Superman"}, "exercise_slug"),
        (f"{URL}/{LEG_RAISE}", {}, "exercise_slug"),
        (f"{URL}/{LEG_RAISE}", {"exercise_slug": None, "extra": 1}, "extra"),
        (f"{URL}/LEG_RAISE", {"exercise_slug": None}, "segment_type"),
        (f"{URL}/27", {"exercise_slug": None}, "segment_type"),
    ],
)
def test_a_bad_mapping_names_the_field_and_changes_nothing(
    client: TestClient, user: Account, admin: Account, path: str, body: object, field: str
) -> None:
    before = mapping(client, user)
    answer = client.put(path, headers=admin.headers, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert mapping(client, user) == before


def test_an_archived_exercise_cannot_be_mapped_to(
    client: TestClient, user: Account, admin: Account
) -> None:
    archive = client.delete("/v1/exercises/superman", headers=admin.headers)
    assert archive.status_code == 204, archive.text
    answer = client.put(
        f"{URL}/{LEG_RAISE}", headers=admin.headers, json={"exercise_slug": "superman"}
    )
    assert answer.status_code == 422 and "archived" in answer.text


def test_only_an_admin_sets_a_mapping(client: TestClient, user: Account) -> None:
    answer = client.put(f"{URL}/{LEG_RAISE}", headers=user.headers, json={"exercise_slug": None})
    assert answer.status_code == 403
    assert client.get(URL).status_code == 401


def test_a_later_seed_keeps_what_an_admin_set_unless_forced(
    client: TestClient, user: Account, admin: Account, db: Engine
) -> None:
    client.put(f"{URL}/{LEG_RAISE}", headers=admin.headers, json={"exercise_slug": "superman"})
    seed = load_seed()
    # The seed file changes another type's mapping meanwhile: that one follows it.
    changed = {**seed.segment_types, "EXERCISE_SEGMENT_TYPE_CRUNCH": None}
    edited_seed: SeedCatalog = dataclasses.replace(seed, segment_types=changed)
    with Session(db) as s:
        report = apply_seed(s, edited_seed)
    assert report.segment_types.conflicts == [LEG_RAISE]
    assert report.segment_types.updated == ["EXERCISE_SEGMENT_TYPE_CRUNCH"]
    now = mapping(client, user)
    assert (now[LEG_RAISE], now["EXERCISE_SEGMENT_TYPE_CRUNCH"]) == ("superman", None)
    with Session(db) as s:
        forced = apply_seed(s, edited_seed, force=True)
    assert forced.segment_types.updated == [LEG_RAISE]
    assert mapping(client, user)[LEG_RAISE] is None
