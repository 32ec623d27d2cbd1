"""ETags and 304s on the personal reads an app caches (issue 17): `/v1/me`,
`/v1/advice`, `/v1/routine` and `GET /v1/sessions/{id}`."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.test_training import build, log_body, put_log
from tests.conftest import Account, FakeClock

pytestmark = pytest.mark.usefixtures("seeded")


def revalidate(client: TestClient, user: Account, url: str) -> tuple[Any, Any]:
    """The first answer, and the answer to revalidating it."""
    first = client.get(url, headers=user.headers)
    assert first.status_code == 200, first.text
    assert first.headers["etag"].startswith('"')
    again = client.get(url, headers={**user.headers, "If-None-Match": first.headers["etag"]})
    return first, again


def assert_not_modified(first: Any, again: Any) -> None:
    assert again.status_code == 304, again.text
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


def test_each_cached_read_answers_304_while_it_stands_and_200_once_it_changes(
    client: TestClient, user: Account, clock: FakeClock
) -> None:
    made = build(client, user).json()
    urls = ["/v1/me", "/v1/advice", "/v1/routine", f"/v1/sessions/{made['id']}"]
    tags = {}
    for url in urls:
        first, again = revalidate(client, user, url)
        assert_not_modified(first, again)
        tags[url] = first.headers["etag"]
    # Time alone (a new `evaluated_at`) is no change.
    clock.advance(seconds=30)
    for url in urls:
        _, again = revalidate(client, user, url)
        assert again.status_code == 304, url
    # Each changes: the profile, the advice and routine (a red flag), the session (its log).
    client.patch("/v1/me", headers=user.headers, json={"display_name": "Sam"})
    put_log(client, user, made["id"], log_body(made, clock))
    flag = {"recorded_at": clock.now.isoformat(), "phase": "daily", "pain": 9}
    assert client.post("/v1/checkins", headers=user.headers, json=flag).status_code == 201
    for url in urls:
        stale = client.get(url, headers={**user.headers, "If-None-Match": tags[url]})
        assert stale.status_code == 200, url
        assert stale.headers["etag"] != tags[url], url
        assert stale.json()  # the whole answer, as without the header


def test_a_list_of_tags_or_a_weak_tag_revalidates_too(client: TestClient, user: Account) -> None:
    tag = client.get("/v1/me", headers=user.headers).headers["etag"]
    for header in (f'"other", {tag}', f"W/{tag}", "*"):
        answer = client.get("/v1/me", headers={**user.headers, "If-None-Match": header})
        assert answer.status_code == 304, header
    other = client.get("/v1/me", headers={**user.headers, "If-None-Match": '"other"'})
    assert other.status_code == 200
