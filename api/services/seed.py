"""Load the catalog from ``seed_data/`` and upsert it by slug.

Seeding is idempotent: a second run with the same files changes nothing. An
exercise an admin has edited since it was seeded is left alone and reported as a
conflict, unless ``force`` is given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, delete, select

from api.db import utcnow
from api.models import Equipment, Exercise, ExerciseEquipment, ExerciseMuscle, Muscle
from api.schemas.catalog import Dose, EquipmentIn, EquipmentRefs, ExerciseIn, MuscleIn, MuscleRefs

DEFAULT_SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"
MUSCLES_FILE = "muscles.yaml"
EQUIPMENT_FILE = "equipment.yaml"
EXERCISES_FILE = "exercises.yaml"

M = TypeVar("M", bound=BaseModel)
Simple = TypeVar("Simple", Muscle, Equipment)


class SeedError(Exception):
    """A seed file is unreadable or an entry is invalid; the message names where."""


@dataclass(frozen=True)
class SeedCatalog:
    muscles: list[MuscleIn]
    equipment: list[EquipmentIn]
    exercises: list[ExerciseIn]


@dataclass
class Tally:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{len(self.created)} created, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged"
        )
        if self.conflicts:
            text += f", {len(self.conflicts)} kept (edited since seeding: "
            text += ", ".join(self.conflicts) + "; use --force to overwrite)"
        return text


@dataclass
class SeedReport:
    muscles: Tally = field(default_factory=Tally)
    equipment: Tally = field(default_factory=Tally)
    exercises: Tally = field(default_factory=Tally)

    @property
    def changed(self) -> bool:
        return any(t.created or t.updated for t in (self.muscles, self.equipment, self.exercises))

    def lines(self) -> list[str]:
        return [
            f"muscles: {self.muscles.summary()}",
            f"equipment: {self.equipment.summary()}",
            f"exercises: {self.exercises.summary()}",
        ]


# --- reading and validating the files ------------------------------------------------


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError as exc:
        raise SeedError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise SeedError(f"{path}: not valid YAML: {exc}") from exc


def _entries(path: Path, raw: Any, model: type[M]) -> list[M]:
    if not isinstance(raw, list):
        raise SeedError(f"{path}: expected a list of entries")
    out: list[M] = []
    for index, item in enumerate(raw, start=1):
        label = f"entry {index}"
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            label += f" ({item['slug']})"
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "(entry)"
            raise SeedError(f"{path}: {label}: field {where}: {err['msg']}") from exc
    return out


def _unique(path: Path, slugs: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    for slug in slugs:
        if slug in seen:
            raise SeedError(f"{path}: slug {slug!r} appears twice")
        seen.add(slug)
    return seen


def load_seed(directory: Path = DEFAULT_SEED_DIR) -> SeedCatalog:
    muscles_path = directory / MUSCLES_FILE
    equipment_path = directory / EQUIPMENT_FILE
    exercises_path = directory / EXERCISES_FILE
    muscles = _entries(muscles_path, _read_yaml(muscles_path), MuscleIn)
    equipment = _entries(equipment_path, _read_yaml(equipment_path), EquipmentIn)
    raw = _read_yaml(exercises_path)
    if not isinstance(raw, dict) or "exercises" not in raw:
        raise SeedError(f"{exercises_path}: expected a mapping with an 'exercises' list")
    exercises = _entries(exercises_path, raw["exercises"], ExerciseIn)

    muscle_slugs = _unique(muscles_path, (m.slug for m in muscles))
    equipment_slugs = _unique(equipment_path, (e.slug for e in equipment))
    exercise_slugs = _unique(exercises_path, (e.slug for e in exercises))
    by_slug = {e.slug: e for e in exercises}
    for ex in exercises:
        label = f"{exercises_path}: entry ({ex.slug})"
        for role in ("primary", "secondary"):
            for slug in getattr(ex.muscles, role):
                if slug not in muscle_slugs:
                    raise SeedError(f"{label}: field muscles.{role}: unknown muscle {slug!r}")
        for kind in ("required", "optional"):
            for slug in getattr(ex.equipment, kind):
                if slug not in equipment_slugs:
                    raise SeedError(f"{label}: field equipment.{kind}: unknown equipment {slug!r}")
        for link in ("easier", "harder"):
            target = getattr(ex, link)
            if target is not None and target not in exercise_slugs:
                raise SeedError(f"{label}: field {link}: unknown exercise {target!r}")
    for ex in exercises:
        label = f"{exercises_path}: entry ({ex.slug})"
        for link, back in (("easier", "harder"), ("harder", "easier")):
            target = getattr(ex, link)
            if target is not None and getattr(by_slug[target], back) != ex.slug:
                raise SeedError(
                    f"{label}: field {link}: {target!r} must name {ex.slug!r} as its {back}"
                )
    _check_no_cycles(exercises_path, exercises)
    return SeedCatalog(muscles=muscles, equipment=equipment, exercises=exercises)


def _check_no_cycles(path: Path, exercises: Sequence[ExerciseIn]) -> None:
    harder = {e.slug: e.harder for e in exercises}
    for start in harder:
        seen = {start}
        step = harder[start]
        while step is not None:
            if step in seen:
                raise SeedError(f"{path}: entry ({start}): field harder: the chain loops")
            seen.add(step)
            step = harder.get(step)


# --- canonical form, for change and edit detection ----------------------------------


def canonical(entry: ExerciseIn) -> dict[str, Any]:
    data = entry.model_dump(mode="json")
    # Link rows come back from the database unordered; compare them as sets.
    for group in ("muscles", "equipment"):
        data[group] = {k: sorted(v) for k, v in data[group].items()}
    return data


def checksum(entry: ExerciseIn) -> str:
    blob = json.dumps(canonical(entry), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


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
            "dose": Dose(
                sets=row.sets,
                reps_min=row.reps_min,
                reps_max=row.reps_max,
                hold_seconds=row.hold_seconds,
                hold_seconds_max=row.hold_seconds_max,
                minutes_min=row.minutes_min,
                minutes_max=row.minutes_max,
                per_side=row.per_side,
                frequency=row.frequency,
            ),
            "difficulty": row.difficulty,
            "muscles": muscles,
            "equipment": equipment,
            "easier": row.easier_slug,
            "harder": row.harder_slug,
            "safety_notes": row.safety_notes,
            "media": row.media,
        }
    )


# --- writing ---------------------------------------------------------------------------


def _upsert_simple(
    session: Session,
    model: type[Simple],
    entries: Sequence[BaseModel],
    tally: Tally,
) -> dict[str, int]:
    rows = {r.slug: r for r in session.exec(select(model)).all()}
    for entry in entries:
        values = entry.model_dump()
        row = rows.get(values["slug"])
        if row is None:
            row = model(**values)
            session.add(row)
            rows[row.slug] = row
            tally.created.append(row.slug)
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            tally.updated.append(row.slug)
        else:
            tally.unchanged.append(row.slug)
    session.flush()
    return {slug: row.id for slug, row in rows.items() if row.id is not None}


def _stored_form(session: Session, row: Exercise) -> ExerciseIn:
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


def _write_fields(row: Exercise, entry: ExerciseIn) -> None:
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
    row.media = [m.model_dump(mode="json") for m in entry.media]


def _write_links(
    session: Session,
    exercise_id: int,
    entry: ExerciseIn,
    muscle_ids: dict[str, int],
    equipment_ids: dict[str, int],
) -> None:
    session.exec(delete(ExerciseMuscle).where(col(ExerciseMuscle.exercise_id) == exercise_id))
    session.exec(delete(ExerciseEquipment).where(col(ExerciseEquipment.exercise_id) == exercise_id))
    for role in ("primary", "secondary"):
        for slug in getattr(entry.muscles, role):
            session.add(
                ExerciseMuscle(exercise_id=exercise_id, muscle_id=muscle_ids[slug], role=role)
            )
    for optional, slugs in ((False, entry.equipment.required), (True, entry.equipment.optional)):
        for slug in slugs:
            session.add(
                ExerciseEquipment(
                    exercise_id=exercise_id, equipment_id=equipment_ids[slug], optional=optional
                )
            )


def apply_seed(session: Session, catalog: SeedCatalog, *, force: bool = False) -> SeedReport:
    """Upsert the whole catalog in one transaction and commit it."""
    report = SeedReport()
    muscle_ids = _upsert_simple(session, Muscle, catalog.muscles, report.muscles)
    equipment_ids = _upsert_simple(session, Equipment, catalog.equipment, report.equipment)

    rows = {r.slug: r for r in session.exec(select(Exercise)).all()}
    to_write: list[tuple[Exercise, ExerciseIn, str]] = []
    now = utcnow()
    for entry in catalog.exercises:
        digest = checksum(entry)
        row = rows.get(entry.slug)
        if row is None:
            row = Exercise(
                slug=entry.slug,
                name=entry.name,
                category=entry.category,
                position=entry.position,
                difficulty=entry.difficulty,
                created_at=now,
                updated_at=now,
            )
            _write_fields(row, entry)
            session.add(row)
            report.exercises.created.append(entry.slug)
            to_write.append((row, entry, digest))
            continue
        if row.seed_checksum == digest:
            report.exercises.unchanged.append(entry.slug)
            continue
        edited = row.seed_checksum is not None and checksum(_stored_form(session, row)) != (
            row.seed_checksum
        )
        if edited and not force:
            report.exercises.conflicts.append(entry.slug)
            continue
        _write_fields(row, entry)
        row.version += 1
        row.updated_at = now
        report.exercises.updated.append(entry.slug)
        to_write.append((row, entry, digest))
    # Variation links point at other exercises, so set them once every row exists.
    session.flush()
    for row, entry, digest in to_write:
        row.easier_slug = entry.easier
        row.harder_slug = entry.harder
        row.seed_checksum = digest
        assert row.id is not None
        _write_links(session, row.id, entry, muscle_ids, equipment_ids)
    session.commit()
    return report
