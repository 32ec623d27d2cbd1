"""The exercise catalog as apps read it: filters, pages and single exercises.

Reads are served from the per-process snapshot (api/services/catalog_snapshot.py),
which api/catalog_cache.py rebuilds when the stored catalog version moves; rendered
bodies and their ETags are cached per catalog version. Admin edits and revision
history: api/services/catalog_admin.py.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.catalog_cache import CatalogCache, Rendered
from api.errors import FieldError, FieldIssue, NotFound
from api.schemas.catalog_public import EquipmentPage, ExercisePage, ExercisePublic, MusclePage
from api.services.catalog_snapshot import Snapshot, sort_key

# `equipment=none`: only exercises that need nothing.
NO_EQUIPMENT = "none"


@dataclass(frozen=True)
class ExerciseFilters:
    category: str | None = None
    muscle: str | None = None
    equipment: tuple[str, ...] | None = None
    max_difficulty: int | None = None
    q: str | None = None
    include_archived: bool = False
    # Cautions none of the returned exercises may carry.
    caution_free: frozenset[str] = frozenset()

    def key(self) -> tuple[Any, ...]:
        return (
            self.category,
            self.muscle,
            tuple(sorted(set(self.equipment))) if self.equipment is not None else None,
            self.max_difficulty,
            self.q.casefold() if self.q else None,
            self.include_archived,
            tuple(sorted(self.caution_free)),
        )


def matches(ex: ExercisePublic, required: frozenset[str], f: ExerciseFilters) -> bool:
    if ex.archived and not f.include_archived:
        return False
    if f.category is not None and ex.category != f.category:
        return False
    if f.muscle is not None and all(m.slug != f.muscle for m in ex.muscles):
        return False
    if f.equipment is not None:
        available = {e for e in f.equipment if e != NO_EQUIPMENT}
        if not required <= available:
            return False
    if f.max_difficulty is not None and ex.difficulty > f.max_difficulty:
        return False
    if not f.caution_free.isdisjoint(ex.cautions):
        return False
    if f.q:
        needle = f.q.casefold()
        haystack = [ex.name, ex.summary, *ex.aliases]
        if not any(needle in text.casefold() for text in haystack):
            return False
    return True


def _encode_position(ex: ExercisePublic) -> str:
    raw = json.dumps(list(sort_key(ex))).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_position(cursor: str) -> tuple[int, str]:
    try:
        rank, slug = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(rank), str(slug)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise FieldError(
            [("cursor", "not a cursor returned by this API", "invalid_cursor")], where="query"
        ) from exc


def exercise_page(
    snap: Snapshot, filters: ExerciseFilters, limit: int, cursor: str | None
) -> ExercisePage:
    """Keyset pagination over (category order, slug)."""
    after = _decode_position(cursor) if cursor else None
    selected: list[ExercisePublic] = []
    for ex in snap.exercises:
        if after is not None and sort_key(ex) <= after:
            continue
        if matches(ex, snap.required_equipment[ex.slug], filters):
            selected.append(ex)
            if len(selected) > limit:
                break
    more = len(selected) > limit
    items = selected[:limit]
    return ExercisePage(items=items, next_cursor=_encode_position(items[-1]) if more else None)


def validate_list_filters(snap: Snapshot, filters: ExerciseFilters) -> None:
    errors: list[FieldIssue] = []
    if filters.muscle is not None and filters.muscle not in {m.slug for m in snap.muscles}:
        errors.append(("muscle", f"unknown muscle {filters.muscle!r}", "unknown"))
    if filters.equipment is not None:
        known = {e.slug for e in snap.equipment} | {NO_EQUIPMENT}
        unknown = [e for e in filters.equipment if e not in known]
        if unknown:
            errors.append(("equipment", f"unknown equipment: {', '.join(unknown)}", "unknown"))
    if errors:
        raise FieldError(errors, where="query")


def list_exercises(
    cache: CatalogCache, snap: Snapshot, filters: ExerciseFilters, limit: int, cursor: str | None
) -> Rendered:
    validate_list_filters(snap, filters)
    return cache.rendered(
        snap,
        ("list", filters.key(), limit, cursor),
        lambda: exercise_page(snap, filters, limit, cursor),
    )


def get_exercise(cache: CatalogCache, snap: Snapshot, slug: str) -> Rendered:
    exercise = snap.by_slug.get(slug)
    if exercise is None:
        raise NotFound(f"No exercise {slug!r}.")
    return cache.rendered(snap, ("detail", slug), lambda: exercise)


def list_muscles(cache: CatalogCache, snap: Snapshot) -> Rendered:
    return cache.rendered(snap, ("muscles",), lambda: MusclePage(items=snap.muscles))


def list_equipment(cache: CatalogCache, snap: Snapshot) -> Rendered:
    return cache.rendered(snap, ("equipment",), lambda: EquipmentPage(items=snap.equipment))


def filters_from_query(
    category: str | None,
    muscle: str | None,
    equipment: Sequence[str] | None,
    max_difficulty: int | None,
    q: str | None,
    include_archived: bool,
    caution_free: Sequence[str] | None = None,
) -> ExerciseFilters:
    gear: tuple[str, ...] | None = None
    if equipment:
        gear = tuple(part.strip() for item in equipment for part in item.split(",") if part.strip())
    return ExerciseFilters(
        category=category,
        muscle=muscle,
        equipment=gear,
        max_difficulty=max_difficulty,
        q=q.strip() if q and q.strip() else None,
        include_archived=include_archived,
        caution_free=frozenset(caution_free or ()),
    )
