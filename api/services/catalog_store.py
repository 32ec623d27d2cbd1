"""Writing exercises, shared by the seed loader and admin edits.

Both paths store the same written form (`ExerciseIn`), record a revision, and
bump the catalog version in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from api.models import (
    CatalogState,
    Equipment,
    Exercise,
    ExerciseEquipment,
    ExerciseMuscle,
    ExerciseRevision,
    Muscle,
)
from api.schemas.catalog import Dose, EquipmentRefs, MuscleRefs
from api.schemas.exercise_in import ExerciseIn

# Fields added after rows were first seeded, left out of `canonical` while empty.
LATER_FIELDS = ("cautions", "caution_limits")


def canonical(entry: ExerciseIn) -> dict[str, Any]:
    """The written form as compared (`checksum`): two entries that mean the same match."""
    data = entry.model_dump(mode="json")
    # Link rows come back from the database unordered; compare them as sets.
    for group in ("muscles", "equipment"):
        data[group] = {k: sorted(v) for k, v in data[group].items()}
    # Cautions are a set too.
    data["cautions"] = sorted(data["cautions"])
    # A row's seed_checksum was computed by the code of its day. Rows seeded before these
    # fields existed carry a checksum of a form without them, so an empty value must hash
    # as if the field were absent: otherwise every such row would look edited by an admin
    # and never receive its cautions from the seed.
    for name in LATER_FIELDS:
        if not data[name]:
            del data[name]
    return data


def checksum(entry: ExerciseIn) -> str:
    blob = json.dumps(canonical(entry), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


DOSE_FIELDS = tuple(Dose.model_fields)


def row_dose(row: Exercise) -> Dose:
    """The catalog dose stored on a row (its columns carry the Dose field names)."""
    return Dose.model_construct(**{name: getattr(row, name) for name in DOSE_FIELDS})


def exercise_as_written(
    row: Exercise,
    muscle_links: Iterable[tuple[str, str]],
    equipment_links: Iterable[tuple[str, bool]],
) -> ExerciseIn:
    """Rebuild the written form of a stored exercise (links as (slug, role/optional))."""
    muscles = MuscleRefs()
    for slug, role in muscle_links:
        getattr(muscles, role).append(slug)
    equipment = EquipmentRefs()
    for slug, optional in equipment_links:
        (equipment.optional if optional else equipment.required).append(slug)
    return ExerciseIn.model_validate(
        {
            "slug": row.slug,
            "name": row.name,
            "category": row.category,
            "summary": row.summary,
            "aliases": row.aliases,
            "position": row.position,
            "steps": row.steps,
            "dose": row_dose(row),
            "difficulty": row.difficulty,
            "muscles": muscles,
            "equipment": equipment,
            "easier": row.easier_slug,
            "harder": row.harder_slug,
            "safety_notes": row.safety_notes,
            "cautions": row.cautions,
            "caution_limits": row.caution_limits,
            "media": row.media,
        }
    )


def written_form(session: Session, row: Exercise) -> ExerciseIn:
    muscle_links = session.exec(
        select(Muscle.slug, ExerciseMuscle.role)
        .join(Muscle, col(Muscle.id) == col(ExerciseMuscle.muscle_id))
        .where(ExerciseMuscle.exercise_id == row.id)
    ).all()
    equipment_links = session.exec(
        select(Equipment.slug, ExerciseEquipment.optional)
        .join(Equipment, col(Equipment.id) == col(ExerciseEquipment.equipment_id))
        .where(ExerciseEquipment.exercise_id == row.id)
    ).all()
    return exercise_as_written(row, muscle_links, equipment_links)


def snapshot_of(entry: ExerciseIn, archived: bool) -> dict[str, Any]:
    """What a revision stores as `before` / `after`: every field, empty ones included (the
    seed reads whether an admin ever set an exercise's cautions from these)."""
    return {"cautions": [], "caution_limits": {}, **canonical(entry), "archived": archived}


def write_fields(row: Exercise, entry: ExerciseIn) -> None:
    """Copy the written form onto the row, except variation links (see write_links)."""
    row.name = entry.name
    row.category = entry.category
    row.summary = entry.summary
    row.aliases = list(entry.aliases)
    row.position = entry.position
    row.steps = list(entry.steps)
    for key, value in entry.dose.model_dump().items():
        setattr(row, key, value)
    row.difficulty = entry.difficulty
    row.safety_notes = list(entry.safety_notes)
    write_cautions(row, entry)
    row.media = [m.model_dump(mode="json") for m in entry.media]


def write_cautions(row: Exercise, entry: ExerciseIn) -> None:
    row.cautions = list(entry.cautions)
    # CautionLimit dumps only the fields it sets: the domain reads every stored value.
    row.caution_limits = {k: v.model_dump() for k, v in entry.caution_limits.items()}


def new_exercise(entry: ExerciseIn, now: datetime) -> Exercise:
    """A new row for a written exercise (variation links come later: see write_links)."""
    row = Exercise(
        slug=entry.slug,
        name=entry.name,
        category=entry.category,
        position=entry.position,
        difficulty=entry.difficulty,
        created_at=now,
        updated_at=now,
    )
    write_fields(row, entry)
    return row


def slug_ids(session: Session, model: type[Muscle] | type[Equipment]) -> dict[str, int]:
    return {
        slug: ident for slug, ident in session.exec(select(model.slug, model.id)).all() if ident
    }


def write_links(
    session: Session,
    row: Exercise,
    entry: ExerciseIn,
    muscle_ids: dict[str, int],
    equipment_ids: dict[str, int],
) -> None:
    """Variation links and muscle/equipment rows; call once every linked exercise exists."""
    assert row.id is not None
    row.easier_slug = entry.easier
    row.harder_slug = entry.harder
    session.exec(delete(ExerciseMuscle).where(col(ExerciseMuscle.exercise_id) == row.id))
    session.exec(delete(ExerciseEquipment).where(col(ExerciseEquipment.exercise_id) == row.id))
    for role in ("primary", "secondary"):
        for slug in getattr(entry.muscles, role):
            session.add(ExerciseMuscle(exercise_id=row.id, muscle_id=muscle_ids[slug], role=role))
    for optional, slugs in ((False, entry.equipment.required), (True, entry.equipment.optional)):
        for slug in slugs:
            session.add(
                ExerciseEquipment(
                    exercise_id=row.id, equipment_id=equipment_ids[slug], optional=optional
                )
            )


def record_revision(
    session: Session,
    row: Exercise,
    *,
    action: str,
    source: str,
    actor_id: uuid.UUID | None,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    now: datetime,
) -> None:
    assert row.id is not None
    session.add(
        ExerciseRevision(
            exercise_id=row.id,
            version=row.version,
            action=action,
            source=source,
            actor_id=actor_id,
            before=before,
            after=after,
            created_at=now,
        )
    )


CATALOG_VERSION_SQL = "SELECT version FROM catalog_state WHERE id = 1"


def catalog_version(session: Session) -> int:
    version = session.exec(select(CatalogState.version).where(CatalogState.id == 1)).first()
    return version or 0


def bump_catalog_version(session: Session) -> None:
    result = session.exec(
        update(CatalogState)
        .where(col(CatalogState.id) == 1)
        .values(version=CatalogState.version + 1)
    )
    if result.rowcount == 0:
        session.add(CatalogState(id=1, version=1))
