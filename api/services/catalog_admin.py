"""Admin edits of the exercise catalog: checked, version-locked and recorded.

Every edit names the version it read (If-Match, parsed by the route into an
`IfMatch`), records a revision and bumps the catalog version in one transaction,
so every API process serves the change on its next read.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from api.catalog_cache import CatalogCache, Rendered
from api.errors import Conflict, FieldError, FieldIssue, NotFound, PreconditionFailed
from api.models import Equipment, Exercise, ExerciseRevision, Muscle
from api.schemas.catalog_public import RevisionPublic
from api.schemas.exercise_in import ExerciseIn, ExercisePatch
from api.services.catalog import get_exercise
from api.services.catalog_store import (
    bump_catalog_version,
    new_exercise,
    record_revision,
    slug_ids,
    snapshot_of,
    write_fields,
    write_links,
    written_form,
)
from api.services.if_match import IfMatch, check_if_match


def _check_references(session: Session, entry: ExerciseIn) -> None:
    errors: list[FieldIssue] = []
    muscles = slug_ids(session, Muscle)
    for role in ("primary", "secondary"):
        unknown = [s for s in getattr(entry.muscles, role) if s not in muscles]
        if unknown:
            errors.append(
                (f"muscles.{role}", f"unknown muscle(s): {', '.join(unknown)}", "unknown")
            )
    equipment = slug_ids(session, Equipment)
    for kind in ("required", "optional"):
        unknown = [s for s in getattr(entry.equipment, kind) if s not in equipment]
        if unknown:
            errors.append(
                (f"equipment.{kind}", f"unknown equipment: {', '.join(unknown)}", "unknown")
            )
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
            errors.append((name, "an exercise cannot be its own variation", "conflict"))
            continue
        if target not in links:
            errors.append((name, f"no exercise {target!r}", "unknown"))
            continue
        seen = {entry.slug}
        step: str | None = target
        while step is not None:
            if step in seen:
                errors.append((name, f"linking {target!r} makes the {name} chain loop", "conflict"))
                break
            seen.add(step)
            step = links.get(step, (None, None))[index]
    if entry.easier is not None and entry.easier == entry.harder:
        errors.append(("harder", "easier and harder variations must differ", "conflict"))
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
    if_match: IfMatch | None,
    actor_id: uuid.UUID,
    now: datetime,
) -> Rendered:
    row, etag = _current(session, cache, slug)
    check_if_match(if_match, etag, required=True)
    before_entry = written_form(session, row)
    was_archived = archived = row.archived
    if replacement is not None:
        if replacement.slug != slug:
            raise FieldError([("slug", "slugs never change: it must match the path", "conflict")])
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
                [
                    (".".join(str(p) for p in e["loc"]) or "body", e["msg"], e["type"])
                    for e in exc.errors()
                ]
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
    if_match: IfMatch | None,
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
            raise FieldError(
                [("cursor", "not a cursor returned by this API", "invalid_cursor")], where="query"
            ) from exc
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
