"""Load the catalog (and the Health Connect segment types' mapping) from ``seed_data/``
and upsert it by slug.

Seeding is idempotent: a second run with the same files changes nothing. An
exercise an admin has edited since it was seeded is left alone and reported as a
conflict, unless ``force`` is given. One safety exception: an edited exercise with no
cautions, whose cautions no admin ever chose, is given the seed's cautions (and only
them), since without them a screen cannot keep it from the people it may harm.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from api.db import utcnow
from api.models import Equipment, Exercise, ExerciseRevision, Muscle
from api.schemas.exercise_in import EquipmentIn, ExerciseIn, MuscleIn
from api.schemas.segment_types import SEGMENT_TYPE_PATTERN
from api.services import segment_mappings
from api.services.catalog_store import (
    bump_catalog_version,
    checksum,
    new_exercise,
    record_revision,
    snapshot_of,
    write_cautions,
    write_fields,
    write_links,
    written_form,
)
from api.services.health_platforms import load_platform_maps

DEFAULT_SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"
MUSCLES_FILE = "muscles.yaml"
EQUIPMENT_FILE = "equipment.yaml"
EXERCISES_FILE = "exercises.yaml"
PLATFORMS_FILE = "health_platforms.yaml"

M = TypeVar("M", bound=BaseModel)
Simple = TypeVar("Simple", Muscle, Equipment)


class SeedError(Exception):
    """A seed file is unreadable or an entry is invalid; the message names where."""


@dataclass(frozen=True)
class SeedCatalog:
    muscles: list[MuscleIn]
    equipment: list[EquipmentIn]
    exercises: list[ExerciseIn]
    # Health Connect segment type -> catalog slug or None (health_platforms.yaml).
    segment_types: dict[str, str | None] = field(default_factory=dict)


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
    segment_types: Tally = field(default_factory=Tally)
    # Edited exercises (also in exercises.conflicts) given only the seed's cautions.
    cautions_added: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        tallies = (self.muscles, self.equipment, self.exercises, self.segment_types)
        return any(t.created or t.updated for t in tallies) or bool(self.cautions_added)

    def lines(self) -> list[str]:
        out = [
            f"muscles: {self.muscles.summary()}",
            f"equipment: {self.equipment.summary()}",
            f"exercises: {self.exercises.summary()}",
            f"segment types: {self.segment_types.summary()}",
        ]
        if self.cautions_added:
            out.append(
                f"exercises: cautions added to {len(self.cautions_added)} kept "
                "(no admin had set their cautions; the rest of each edit is unchanged): "
                + ", ".join(self.cautions_added)
            )
        return out


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
    platforms_path = directory / PLATFORMS_FILE
    segment_types: dict[str, str | None] = {}
    if platforms_path.exists():
        try:
            segment_types = dict(load_platform_maps(platforms_path).health_connect.segment_types)
        except (ValidationError, yaml.YAMLError) as exc:
            raise SeedError(f"{platforms_path}: {exc}") from exc
        for name, slug in segment_types.items():
            if not re.fullmatch(SEGMENT_TYPE_PATTERN, name):
                raise SeedError(f"{platforms_path}: segment type {name!r}: not a type name")
            if slug is not None and slug not in exercise_slugs:
                raise SeedError(f"{platforms_path}: segment type {name}: unknown exercise {slug!r}")
    return SeedCatalog(
        muscles=muscles, equipment=equipment, exercises=exercises, segment_types=segment_types
    )


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


def _admin_chose_cautions(session: Session, row: Exercise) -> bool:
    """Whether an admin ever set this exercise's cautions (emptying them counts): an edit
    not by the seed whose `after` holds cautions other than its `before`'s. Revisions
    written before cautions existed hold none; one that only carried them over unchanged
    (an edit of another field) chose nothing."""
    edits = session.exec(
        select(ExerciseRevision.before, ExerciseRevision.after).where(
            ExerciseRevision.exercise_id == row.id, col(ExerciseRevision.source) != "seed"
        )
    ).all()
    for before, after in edits:
        if "cautions" not in after:
            continue
        if before is None or sorted(before.get("cautions", [])) != sorted(after["cautions"]):
            return True
    return False


def _needs_cautions(session: Session, row: Exercise, entry: ExerciseIn) -> bool:
    return not row.cautions and bool(entry.cautions) and not _admin_chose_cautions(session, row)


def _add_cautions(
    session: Session, row: Exercise, current: ExerciseIn, entry: ExerciseIn, now: datetime
) -> None:
    """Give an admin-edited exercise the seed's cautions, leaving the rest of the edit."""
    with_cautions = current.model_copy(
        update={"cautions": entry.cautions, "caution_limits": entry.caution_limits}
    )
    write_cautions(row, with_cautions)
    row.version += 1
    row.updated_at = now
    record_revision(
        session,
        row,
        action="update",
        source="seed",
        actor_id=None,
        before=snapshot_of(current, row.archived),
        after=snapshot_of(with_cautions, row.archived),
        now=now,
    )


def apply_seed(session: Session, catalog: SeedCatalog, *, force: bool = False) -> SeedReport:
    """Upsert the whole catalog in one transaction and commit it."""
    report = SeedReport()
    muscle_ids = _upsert_simple(session, Muscle, catalog.muscles, report.muscles)
    equipment_ids = _upsert_simple(session, Equipment, catalog.equipment, report.equipment)

    rows = {r.slug: r for r in session.exec(select(Exercise)).all()}
    # (row, entry, checksum, revision action, state before)
    to_write: list[tuple[Exercise, ExerciseIn, str, str, dict[str, Any] | None]] = []
    now = utcnow()
    for entry in catalog.exercises:
        digest = checksum(entry)
        row = rows.get(entry.slug)
        if row is None:
            row = new_exercise(entry, now)
            session.add(row)
            report.exercises.created.append(entry.slug)
            to_write.append((row, entry, digest, "create", None))
            continue
        current = written_form(session, row)
        stored = checksum(current)
        if stored == digest:
            report.exercises.unchanged.append(entry.slug)
            continue
        # Edited since it was last seeded: an admin's work, kept unless forced.
        edited = row.seed_checksum is not None and stored != row.seed_checksum
        if edited and not force:
            report.exercises.conflicts.append(entry.slug)
            if _needs_cautions(session, row, entry):
                _add_cautions(session, row, current, entry, now)
                report.cautions_added.append(entry.slug)
            continue
        before = snapshot_of(current, row.archived)
        write_fields(row, entry)
        row.version += 1
        row.updated_at = now
        report.exercises.updated.append(entry.slug)
        to_write.append((row, entry, digest, "update", before))
    # Variation links point at other exercises, so set them once every row exists.
    session.flush()
    for row, entry, digest, action, previous in to_write:
        write_links(session, row, entry, muscle_ids, equipment_ids)
        row.seed_checksum = digest
        record_revision(
            session,
            row,
            action=action,
            source="seed",
            actor_id=None,
            before=previous,
            after=snapshot_of(entry, row.archived),
            now=now,
        )
    segment_mappings.apply_seed(
        session, catalog.segment_types, report.segment_types, now, force=force
    )
    catalog_tallies = (report.muscles, report.equipment, report.exercises)
    if report.cautions_added or any(t.created or t.updated for t in catalog_tallies):
        bump_catalog_version(session)
    session.commit()
    return report
