"""OpenAPI links: which operations take an id this answer gives (create -> read, update,
delete). Client generators and Schemathesis' stateful phase follow them."""

from __future__ import annotations

from typing import Any

from fastapi import Response

LOCATION_HEADER = {
    "Location": {
        "description": "Where the new resource is (its path)",
        "schema": {"type": "string"},
    }
}


# Every create that a retry may repeat (a client id, an Idempotency-Key, an invitation
# code) answers the retry as it answered the first request: 201, the same resource and
# Location, marked by this header (docs/api.md: one replay status, issue 17).
REPLAY_HEADER = "Idempotent-Replayed"
REPLAYED = {
    REPLAY_HEADER: {
        "description": "`true` when this answer replays an earlier create (the same client "
        "id, Idempotency-Key or invitation code): nothing new was stored; absent otherwise",
        "schema": {"type": "string", "pattern": "^true$"},
    }
}


def links(
    pointer: str,
    param: str,
    *operation_ids: str,
    if_match: tuple[str, ...] = (),
    location: bool = True,
    replays: bool = False,
) -> dict[str, Any]:
    """A 201's `links`: each operation, with its path parameter `param` taken from the
    answer's body at JSON pointer `pointer` (e.g. "/id"); those in `if_match` also send
    the answer's ETag as If-Match (they refuse a write without it). With `location`, the
    201 also declares its Location header; with `replays`, the replay marker."""
    headers = {**(LOCATION_HEADER if location else {}), **(REPLAYED if replays else {})}
    return {
        **({"headers": headers} if headers else {}),
        "links": {
            op: {
                "operationId": op,
                "parameters": {
                    param: f"$response.body#{pointer}",
                    **({"header.if-match": "$response.header.ETag"} if op in if_match else {}),
                },
            }
            for op in operation_ids
        },
    }


def answer_create(response: Response, location: str, created: bool) -> None:
    """A create's answer headers: where the resource is, and whether this was a replay."""
    response.headers["Location"] = location
    if not created:
        response.headers[REPLAY_HEADER] = "true"
