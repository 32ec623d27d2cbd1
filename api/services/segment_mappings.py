"""Which catalog exercise a platform's exercise segment type counts (issue 20): a table
seeded from seed_data/health_platforms.yaml and edited by admins, as the catalog is.

A seed run adds the types it lists and updates those no admin has set; a type an admin
set is kept (reported as a conflict) unless the seed is forced.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlmodel import Session, col, select

from api.domain.catalog import CatalogInfo
from api.errors import FieldError
from api.models import SegmentTypeMapping

HEALTH_CONNECT = "health_connect"


class _Tally(Protocol):
    created: list[str]
    updated: list[str]
    unchanged: list[str]
    conflicts: list[str]


def current(session: Session, platform: str = HEALTH_CONNECT) -> dict[str, str | None]:
    """Segment type -> catalog slug (None: known, no catalog exercise), as it is now."""
    rows = session.exec(
        select(SegmentTypeMapping.segment_type, SegmentTypeMapping.exercise_slug).where(
            col(SegmentTypeMapping.platform) == platform
        )
    ).all()
    return dict(rows)


def listed(session: Session, platform: str = HEALTH_CONNECT) -> list[SegmentTypeMapping]:
    return list(
        session.exec(
            select(SegmentTypeMapping)
            .where(col(SegmentTypeMapping.platform) == platform)
            .order_by(col(SegmentTypeMapping.segment_type))
        ).all()
    )


def apply_seed(
    session: Session,
    seed: Mapping[str, str | None],
    tally: _Tally,
    now: datetime,
    *,
    force: bool = False,
    platform: str = HEALTH_CONNECT,
) -> None:
    """Upsert the seed's mapping (flushed, not committed)."""
    rows = {r.segment_type: r for r in listed(session, platform)}
    for segment_type, slug in seed.items():
        row = rows.get(segment_type)
        if row is None:
            session.add(
                SegmentTypeMapping(
                    platform=platform, segment_type=segment_type, exercise_slug=slug,
                    updated_at=now,
                )
            )  # fmt: skip
            tally.created.append(segment_type)
        elif row.exercise_slug == slug and not (force and row.edited):
            tally.unchanged.append(segment_type)
        elif row.edited and not force:
            tally.conflicts.append(segment_type)
        else:
            row.exercise_slug, row.edited, row.updated_by = slug, False, None
            row.updated_at = now
            session.add(row)
            tally.updated.append(segment_type)
    session.flush()


def set_mapping(
    session: Session,
    segment_type: str,
    slug: str | None,
    admin_id: uuid.UUID,
    catalog: Mapping[str, bool],
    now: datetime,
    platform: str = HEALTH_CONNECT,
) -> tuple[SegmentTypeMapping, bool]:
    """An admin maps a segment type to a catalog exercise (or to none); `catalog` is slug
    -> archived. Committed; True when the type was not known before."""
    if slug is not None and catalog.get(slug, True):
        archived = " but an archived one" if slug in catalog else ""
        raise FieldError([("exercise_slug", f"no exercise {slug!r} in the catalog{archived}",
                           "unknown")])  # fmt: skip
    row = session.get(SegmentTypeMapping, (platform, segment_type))
    created = row is None
    if row is None:
        row = SegmentTypeMapping(platform=platform, segment_type=segment_type)
    row.exercise_slug, row.edited, row.updated_by, row.updated_at = slug, True, admin_id, now
    session.add(row)
    session.commit()
    session.refresh(row)
    return row, created


def counted_in(
    mapping: Mapping[str, str | None], catalog: Mapping[str, CatalogInfo]
) -> dict[str, str | None]:
    """The mapping as an import uses it: a type mapped to an exercise no longer served
    (archived since) counts nothing and is reported as unmapped, so it gets noticed."""
    return {
        t: s for t, s in mapping.items() if s is None or (s in catalog and not catalog[s].archived)
    }
