"""GET /v1/rules serves the rule table; docs/rules.md shows the same table."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.domain.rule_table import RULESET_VERSION
from api.domain.thresholds import SPEC
from api.services.ruleset import BEGIN, END, markdown, rewrite

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
TABLE_IDS = [
    "RF1",
    "RF2",
    "RF2b",
    "RF3",
    "RF4",
    "F1",
    "F2",
    "P1",
    "P2",
    "P3",
    "P4",
    "P0",
    "V1",
    "M0",
    "SB1",
]


def test_rules_lists_every_rule_with_thresholds_and_sources(client: TestClient) -> None:
    response = client.get("/v1/rules")  # public: no credentials
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == RULESET_VERSION
    assert body["severity"][0] == "urgent_care" and body["severity"][-1] == "progress"
    rules = {r["rule_id"]: r for r in body["rules"]}
    assert list(rules) == TABLE_IDS
    for rule in rules.values():
        assert rule["sources"], rule["rule_id"]
        assert rule["status"] == rule["statuses"][-1]
        for name, threshold in rule["thresholds"].items():
            default, bound = SPEC[name]
            assert threshold == {
                "default": default,
                "bound": [bound.low, bound.high],
                "source": bound.source,
            }
    # Red-flag rules have nothing to tune, so no override can switch them off.
    assert rules["RF1"]["thresholds"] == {} and rules["RF2"]["thresholds"] == {}
    assert "during_pain_max" in rules["P1"]["thresholds"]
    assert rules["P1"]["moves_dose"] == "down" and rules["P4"]["moves_dose"] == "up"
    assert rules["F1"]["statuses"] == ["regress", "see_doctor"]


def test_rules_revalidate_with_their_etag(client: TestClient) -> None:
    first = client.get("/v1/rules")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public")
    again = client.get("/v1/rules", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert client.get("/v1/rules", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_the_doc_shows_the_table_as_it_is() -> None:
    doc = DOC.read_text()
    assert markdown().rstrip("\n") in doc, (
        "docs/rules.md disagrees with api/domain/rule_table.py: "
        "run `python -m api.services.ruleset docs/rules.md`"
    )
    assert rewrite(doc) == doc
    for rule_id in TABLE_IDS:
        assert f"| **{rule_id}** " in doc


def test_the_doc_check_notices_an_edit_of_the_generated_table() -> None:
    doc = DOC.read_text()
    edited = doc.replace("Cauda equina red flags", "Cauda equina flags", 1)
    assert edited != doc
    assert markdown().rstrip("\n") not in edited
    assert rewrite(edited) == doc
    assert doc.count(BEGIN) == 1 and doc.count(END) == 1
