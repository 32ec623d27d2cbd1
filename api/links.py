"""OpenAPI links: which operations take an id this answer gives (create -> read, update,
delete). Client generators and Schemathesis' stateful phase follow them."""

from __future__ import annotations

from typing import Any

LOCATION_HEADER = {
    "Location": {
        "description": "Where the new resource is (its path)",
        "schema": {"type": "string"},
    }
}


def links(
    pointer: str,
    param: str,
    *operation_ids: str,
    if_match: tuple[str, ...] = (),
    location: bool = True,
) -> dict[str, Any]:
    """A 201's `links`: each operation, with its path parameter `param` taken from the
    answer's body at JSON pointer `pointer` (e.g. "/id"); those in `if_match` also send
    the answer's ETag as If-Match (they refuse a write without it). With `location`, the
    201 also declares its Location header."""
    return {
        **({"headers": dict(LOCATION_HEADER)} if location else {}),
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
