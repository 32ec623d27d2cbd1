"""The exercise catalog: cached reads for apps, checked and recorded edits for admins.

Reads are served from a per-process snapshot of the whole catalog, rebuilt when
the stored catalog version moves (one primary-key lookup per request, see
VersionProbe), so an edit shows at once on every API process. Rendered bodies
and their ETags are cached per catalog version.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from api.errors import (
    Conflict,
    FieldError,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from api.models import (
    Equipment,
    Exercise,
    ExerciseEquipment,
    ExerciseMuscle,
    ExerciseRevision,
    Muscle,
)
from api.schemas.catalog import (
    EquipmentLink,
    EquipmentPage,
    EquipmentPublic,
    ExerciseIn,
    ExercisePage,
    ExercisePatch,
    ExercisePublic,
    MediaItem,
    MuscleLink,
    MusclePage,
    MusclePublic,
    RevisionPublic,
    VariationLink,
)
from api.services.catalog_store import (
    CATALOG_VERSION_SQL,
    bump_catalog_version,
    catalog_version,
    new_exercise,
    record_revision,
    row_dose,
    slug_ids,
    snapshot_of,
    write_fields,
    write_links,
    written_form,
)

# Apps list warm-ups first, then strength work, then stretches.
CATEGORY_ORDER = {"warmup": 0, "strength": 1, "stretch": 2}
# `equipment=none`: only exercises that need nothing.
NO_EQUIPMENT = "none"
RENDER_CACHE_SIZE = 512


# --- snapshot and rendering -------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    version: int
    exercises: list[ExercisePublic]  # in list order, archived included
    by_slug: dict[str, ExercisePublic]
    required_equipment: dict[str, frozenset[str]]
    muscles: list[MusclePublic]
    equipment: list[EquipmentPublic]


@dataclass(frozen=True)
class Rendered:
    etag: str
    body: bytes


def _sort_key(ex: ExercisePublic) -> tuple[int, str]:
    return (CATEGORY_ORDER[ex.category], ex.slug)


def load_snapshot(session: Session, version: int) -> Snapshot:
    """The whole catalog in five queries, whatever its size."""
    rows = session.exec(select(Exercise)).all()
    muscles = session.exec(select(Muscle).order_by(col(Muscle.slug))).all()
    equipment = session.exec(select(Equipment).order_by(col(Equipment.slug))).all()
    muscle_by_id = {m.id: m for m in muscles}
    equipment_by_id = {e.id: e for e in equipment}
    muscle_links: dict[int, list[MuscleLink]] = defaultdict(list)
    for link in session.exec(select(ExerciseMuscle)).all():
        m = muscle_by_id[link.muscle_id]
        muscle_links[link.exercise_id].append(
            MuscleLink(slug=m.slug, name=m.name, location=m.location, role=link.role)
        )
    equipment_links: dict[int, list[EquipmentLink]] = defaultdict(list)
    for item in session.exec(select(ExerciseEquipment)).all():
        e = equipment_by_id[item.equipment_id]
        equipment_links[item.exercise_id].append(
            EquipmentLink(slug=e.slug, name=e.name, optional=item.optional)
        )
    names = {r.slug: r.name for r in rows}

    def variation(slug: str | None) -> VariationLink | None:
        if slug is None or slug not in names:
            return None
        return VariationLink(slug=slug, name=names[slug], href=f"/v1/exercises/{slug}")

    exercises: list[ExercisePublic] = []
    required: dict[str, frozenset[str]] = {}
    for row in rows:
        assert row.id is not None
        links = sorted(muscle_links[row.id], key=lambda m: (m.role != "primary", m.slug))
        gear = sorted(equipment_links[row.id], key=lambda g: (g.optional, g.slug))
        required[row.slug] = frozenset(g.slug for g in gear if not g.optional)
        exercises.append(
            ExercisePublic(
                slug=row.slug,
                name=row.name,
                category=row.category,
                summary=row.summary,
                aliases=row.aliases,
                position=row.position,
                steps=row.steps,
                dose=row_dose(row),
                difficulty=row.difficulty,
                muscles=links,
                equipment=gear,
                easier=variation(row.easier_slug),
                harder=variation(row.harder_slug),
                safety_notes=row.safety_notes,
                media=[MediaItem.model_validate(m) for m in row.media],
                archived=row.archived,
                version=row.version,
                updated_at=row.updated_at,
            )
        )
    exercises.sort(key=_sort_key)
    return Snapshot(
        version=version,
        exercises=exercises,
        by_slug={e.slug: e for e in exercises},
        required_equipment=required,
        muscles=[MusclePublic(slug=m.slug, name=m.name, location=m.location) for m in muscles],
        equipment=[
            EquipmentPublic(slug=e.slug, name=e.name, description=e.description) for e in equipment
        ],
    )


def render(model: BaseModel) -> Rendered:
    body = model.__pydantic_serializer__.to_json(model)
    return Rendered(etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"', body=body)


class ProbeFailed(Exception):
    """The catalog version could not be read; callers fall back to a worker thread."""


class VersionProbe:
    """Reads the stored catalog version on one connection kept for the event loop.

    A primary-key read on a bare driver connection costs a few microseconds, far
    less than handing the request to a worker thread, so cached catalog reads
    never leave the event loop. The connection is in autocommit mode (no
    transaction held open between reads, so every read sees the latest commit)
    and, on PostgreSQL, has a short statement timeout so a sick database cannot
    stall the loop for long. Only ever used from the event loop's thread.
    """

    TIMEOUT_MS = 500

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._raw: Any = None

    def _connect(self) -> Any:
        raw = self._engine.raw_connection()
        driver = raw.driver_connection
        if self._engine.dialect.name == "postgresql":
            driver.autocommit = True  # type: ignore[union-attr]
            driver.execute(f"SET statement_timeout = {self.TIMEOUT_MS}")  # type: ignore[union-attr]
        else:
            driver.isolation_level = None  # type: ignore[union-attr]
        return raw

    def read(self) -> int:
        errors = self._engine.dialect.dbapi.Error  # type: ignore[union-attr]
        for attempt in (1, 2):
            try:
                if self._raw is None:
                    self._raw = self._connect()
                cursor = self._raw.cursor()
                try:
                    cursor.execute(CATALOG_VERSION_SQL)
                    row = cursor.fetchone()
                finally:
                    cursor.close()
                return int(row[0]) if row else 0
            except (errors, DBAPIError) as exc:
                self.close()
                if attempt == 2:
                    raise ProbeFailed(str(exc)) from exc
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._raw is not None:
            with contextlib.suppress(Exception):
                self._raw.invalidate()
            self._raw = None


@dataclass
class CatalogCache:
    """Per-process cache, always checked against the stored catalog version."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _snapshot: Snapshot | None = None
    _rendered: OrderedDict[tuple[Any, ...], Rendered] = field(default_factory=OrderedDict)

    def cached(self, version: int) -> Snapshot | None:
        snap = self._snapshot
        return snap if snap is not None and snap.version == version else None

    def load(self, session: Session, version: int) -> Snapshot:
        fresh = load_snapshot(session, version)
        with self._lock:
            if self._snapshot is None or self._snapshot.version < version:
                self._snapshot = fresh
                self._rendered.clear()
        return fresh

    def snapshot(self, session: Session) -> Snapshot:
        version = catalog_version(session)
        return self.cached(version) or self.load(session, version)

    def rendered(
        self, snap: Snapshot, key: tuple[Any, ...], build: Callable[[], BaseModel]
    ) -> Rendered:
        full_key = (snap.version, *key)
        with self._lock:
            hit = self._rendered.get(full_key)
            if hit is not None:
                self._rendered.move_to_end(full_key)
                return hit
        result = render(build())
        with self._lock:
            self._rendered[full_key] = result
            while len(self._rendered) > RENDER_CACHE_SIZE:
                self._rendered.popitem(last=False)
        return result


# --- reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExerciseFilters:
    category: str | None = None
    muscle: str | None = None
    equipment: tuple[str, ...] | None = None
    max_difficulty: int | None = None
    q: str | None = None
    include_archived: bool = False

    def key(self) -> tuple[Any, ...]:
        return (
            self.category,
            self.muscle,
            tuple(sorted(set(self.equipment))) if self.equipment is not None else None,
            self.max_difficulty,
            self.q.casefold() if self.q else None,
            self.include_archived,
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
    if f.q:
        needle = f.q.casefold()
        haystack = [ex.name, ex.summary, *ex.aliases]
        if not any(needle in text.casefold() for text in haystack):
            return False
    return True


def _encode_position(ex: ExercisePublic) -> str:
    raw = json.dumps(list(_sort_key(ex))).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_position(cursor: str) -> tuple[int, str]:
    try:
        rank, slug = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(rank), str(slug)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise FieldError([("cursor", "not a cursor returned by this API")]) from exc


def exercise_page(
    snap: Snapshot, filters: ExerciseFilters, limit: int, cursor: str | None
) -> ExercisePage:
    """Keyset pagination over (category order, slug)."""
    after = _decode_position(cursor) if cursor else None
    selected: list[ExercisePublic] = []
    for ex in snap.exercises:
        if after is not None and _sort_key(ex) <= after:
            continue
        if matches(ex, snap.required_equipment[ex.slug], filters):
            selected.append(ex)
            if len(selected) > limit:
                break
    more = len(selected) > limit
    items = selected[:limit]
    return ExercisePage(items=items, next_cursor=_encode_position(items[-1]) if more else None)


def validate_list_filters(snap: Snapshot, filters: ExerciseFilters) -> None:
    errors: list[tuple[str, str]] = []
    if filters.muscle is not None and filters.muscle not in {m.slug for m in snap.muscles}:
        errors.append(("muscle", f"unknown muscle {filters.muscle!r}"))
    if filters.equipment is not None:
        known = {e.slug for e in snap.equipment} | {NO_EQUIPMENT}
        unknown = [e for e in filters.equipment if e not in known]
        if unknown:
            errors.append(("equipment", f"unknown equipment: {', '.join(unknown)}"))
    if errors:
        raise FieldError(errors)


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


# --- conditional requests -----------------------------------------------------------------


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when the client's copy is current (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    tags = _etags(if_none_match)
    return "*" in tags or etag in tags


def check_if_match(if_match: str | None, etag: str, *, required: bool) -> None:
    """Strong comparison (RFC 9110 13.1.1); weak tags never match."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "Send If-Match with the exercise's current ETag (from GET), so an edit "
                "never silently overwrites someone else's."
            )
        return
    tags = [t.strip() for t in if_match.split(",") if t.strip()]
    if "*" in tags or etag in tags:
        return
    raise PreconditionFailed(
        "The exercise changed since you read it (ETag mismatch): GET it again, re-apply "
        "your edit and retry.",
        extra={"current_etag": etag},
    )


# --- admin writes ---------------------------------------------------------------------


def _check_references(session: Session, entry: ExerciseIn) -> None:
    errors: list[tuple[str, str]] = []
    muscles = slug_ids(session, Muscle)
    for role in ("primary", "secondary"):
        unknown = [s for s in getattr(entry.muscles, role) if s not in muscles]
        if unknown:
            errors.append((f"muscles.{role}", f"unknown muscle(s): {', '.join(unknown)}"))
    equipment = slug_ids(session, Equipment)
    for kind in ("required", "optional"):
        unknown = [s for s in getattr(entry.equipment, kind) if s not in equipment]
        if unknown:
            errors.append((f"equipment.{kind}", f"unknown equipment: {', '.join(unknown)}"))
    links = {
        slug: (easier, harder)
        for slug, easier, harder in session.exec(
            select(Exercise.slug, Exercise.easier_slug, Exercise.harder_slug)
        ).all()
    }
    links[entry.slug] = (entry.easier, entry.harder)
    for name, index in (("easier", 0), ("harder", 1)):
        target = links[entry.slug][index]
        if target is None:
            continue
        if target == entry.slug:
            errors.append((name, "an exercise cannot be its own variation"))
            continue
        if target not in links:
            errors.append((name, f"no exercise {target!r}"))
            continue
        seen = {entry.slug}
        step: str | None = target
        while step is not None:
            if step in seen:
                errors.append((name, f"linking {target!r} makes the {name} chain loop"))
                break
            seen.add(step)
            step = links.get(step, (None, None))[index]
    if entry.easier is not None and entry.easier == entry.harder:
        errors.append(("harder", "easier and harder variations must differ"))
    if errors:
        raise FieldError(errors)


def _row(session: Session, slug: str) -> Exercise:
    row = session.exec(select(Exercise).where(Exercise.slug == slug)).first()
    if row is None:
        raise NotFound(f"No exercise {slug!r}.")
    return row


def _claim(session: Session, row: Exercise) -> None:
    """Take the next version only if nobody else did since we read the row."""
    claimed = session.exec(
        update(Exercise)
        .where(col(Exercise.id) == row.id, col(Exercise.version) == row.version)
        .values(version=row.version + 1)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise PreconditionFailed("The exercise changed while you were editing it; retry.")
    session.refresh(row)


def create_exercise(
    session: Session, cache: CatalogCache, entry: ExerciseIn, actor_id: uuid.UUID, now: datetime
) -> Rendered:
    if session.exec(select(Exercise.id).where(Exercise.slug == entry.slug)).first():
        raise Conflict(f"An exercise with slug {entry.slug!r} already exists.")
    _check_references(session, entry)
    row = new_exercise(entry, now)
    session.add(row)
    session.flush()
    write_links(session, row, entry, slug_ids(session, Muscle), slug_ids(session, Equipment))
    record_revision(
        session,
        row,
        action="create",
        source="api",
        actor_id=actor_id,
        before=None,
        after=snapshot_of(entry, archived=False),
        now=now,
    )
    bump_catalog_version(session)
    session.commit()
    return get_exercise(cache, cache.snapshot(session), entry.slug)


def _current(session: Session, cache: CatalogCache, slug: str) -> tuple[Exercise, str]:
    row = _row(session, slug)
    return row, get_exercise(cache, cache.snapshot(session), slug).etag


def update_exercise(
    session: Session,
    cache: CatalogCache,
    slug: str,
    *,
    replacement: ExerciseIn | None = None,
    patch: ExercisePatch | None = None,
    if_match: str | None,
    actor_id: uuid.UUID,
    now: datetime,
) -> Rendered:
    row, etag = _current(session, cache, slug)
    check_if_match(if_match, etag, required=True)
    before_entry = written_form(session, row)
    was_archived = archived = row.archived
    if replacement is not None:
        if replacement.slug != slug:
            raise FieldError([("slug", "slugs never change: it must match the path")])
        entry = replacement
    else:
        assert patch is not None
        changes = patch.model_dump(exclude_unset=True)
        archived = changes.pop("archived", archived)
        merged = {**before_entry.model_dump(), **changes}
        try:
            entry = ExerciseIn.model_validate(merged)
        except ValidationError as exc:
            raise FieldError(
                [(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
            ) from exc
    _check_references(session, entry)
    _claim(session, row)
    write_fields(row, entry)
    write_links(session, row, entry, slug_ids(session, Muscle), slug_ids(session, Equipment))
    action = "update"
    if archived != was_archived:
        action = "archive" if archived else "restore"
    row.archived = archived
    row.updated_at = now
    session.add(row)
    record_revision(
        session,
        row,
        action=action,
        source="api",
        actor_id=actor_id,
        before=snapshot_of(before_entry, was_archived),
        after=snapshot_of(entry, archived),
        now=now,
    )
    bump_catalog_version(session)
    session.commit()
    return get_exercise(cache, cache.snapshot(session), slug)


def archive_exercise(
    session: Session,
    cache: CatalogCache,
    slug: str,
    *,
    if_match: str | None,
    actor_id: uuid.UUID,
    now: datetime,
) -> None:
    row, etag = _current(session, cache, slug)
    check_if_match(if_match, etag, required=False)
    if row.archived:
        return
    entry = written_form(session, row)
    _claim(session, row)
    row.archived = True
    row.updated_at = now
    session.add(row)
    record_revision(
        session,
        row,
        action="archive",
        source="api",
        actor_id=actor_id,
        before=snapshot_of(entry, archived=False),
        after=snapshot_of(entry, archived=True),
        now=now,
    )
    bump_catalog_version(session)
    session.commit()


def list_revisions(
    session: Session, slug: str, *, limit: int, cursor: str | None
) -> tuple[list[RevisionPublic], str | None]:
    """Newest first. Versions rise by one with every change, so they are the keyset."""
    row = _row(session, slug)
    stmt = select(ExerciseRevision).where(ExerciseRevision.exercise_id == row.id)
    if cursor is not None:
        try:
            before_version = int(cursor)
        except ValueError as exc:
            raise FieldError([("cursor", "not a cursor returned by this API")]) from exc
        stmt = stmt.where(col(ExerciseRevision.version) < before_version)
    revisions = session.exec(
        stmt.order_by(
            col(ExerciseRevision.version).desc(), col(ExerciseRevision.created_at).desc()
        ).limit(limit + 1)
    ).all()
    more = len(revisions) > limit
    revisions = revisions[:limit]
    items = [
        RevisionPublic(
            id=r.id,
            exercise_slug=slug,
            version=r.version,
            action=r.action,
            source=r.source,
            actor_id=r.actor_id,
            created_at=r.created_at,
            before=r.before,
            after=r.after,
        )
        for r in revisions
    ]
    return items, str(revisions[-1].version) if more else None


def filters_from_query(
    category: str | None,
    muscle: str | None,
    equipment: Sequence[str] | None,
    max_difficulty: int | None,
    q: str | None,
    include_archived: bool,
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
    )
