"""Conditional request headers (RFC 9110 section 13), parsed at the door.

Routes and the catalog fast path parse `If-None-Match` and `If-Match` here; services
only ever see the parsed `IfMatch` (api/services/if_match.py).
"""

from __future__ import annotations

from api.services.if_match import IfMatch


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when the client's copy is current (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    tags = _etags(if_none_match)
    return "*" in tags or etag in tags


def parse_if_match(header: str | None) -> IfMatch | None:
    """None when the header is absent; its tags as sent (weak ones kept, never matching)."""
    if header is None:
        return None
    return IfMatch(tuple(tag.strip() for tag in header.split(",") if tag.strip()))
