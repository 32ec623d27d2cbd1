"""The whole catalog at one stored version, read once and shared by every reader.

A snapshot holds what the public reads serve (exercises in list order, muscles,
equipment) and what rule evaluation needs (``rule_catalog``), all built from the
same rows in one pass. api/catalog_cache.py keeps the current one per process.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlmodel import Session, col, select

from api.domain.catalog import CatalogInfo
from api.domain.ladder import CatalogDose
from api.models import Equipment, Exercise, ExerciseEquipment, ExerciseMuscle, Muscle
from api.schemas.catalog import MediaItem
from api.schemas.catalog_public import (
    EquipmentLink,
    EquipmentPublic,
    ExercisePublic,
    MuscleLink,
    MusclePublic,
    VariationLink,
)
from api.services.catalog_store import row_dose

# Apps list warm-ups first, then strength work, then stretches.
CATEGORY_ORDER = {"warmup": 0, "strength": 1, "stretch": 2}


@dataclass(frozen=True)
class Snapshot:
    version: int
    exercises: list[ExercisePublic]  # in list order, archived included
    by_slug: dict[str, ExercisePublic]
    required_equipment: dict[str, frozenset[str]]
    muscles: list[MusclePublic]
    equipment: list[EquipmentPublic]
    # slug -> what rule evaluation reads, for every exercise (archived included).
    rule_catalog: dict[str, CatalogInfo]


def sort_key(ex: ExercisePublic) -> tuple[int, str]:
    """List order: category (CATEGORY_ORDER), then slug."""
    return (CATEGORY_ORDER[ex.category], ex.slug)


def rule_info(row: Exercise) -> CatalogInfo:
    """An exercise row as rule evaluation sees it: its catalog dose and variations."""
    return CatalogInfo(
        slug=row.slug,
        name=row.name,
        category=row.category,
        archived=row.archived,
        dose=CatalogDose(
            slug=row.slug,
            sets=row.sets,
            reps_min=row.reps_min,
            reps_max=row.reps_max,
            hold_seconds=row.hold_seconds,
            hold_seconds_max=row.hold_seconds_max,
            per_side=row.per_side,
            easier=row.easier_slug,
            harder=row.harder_slug,
            name=row.name,
        ),
        cautions=frozenset(row.cautions),
        caution_limits={k: dict(v) for k, v in row.caution_limits.items()},
        steps=tuple(row.steps),
    )


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
                cautions=row.cautions,
                caution_limits=row.caution_limits,
                media=[MediaItem.model_validate(m) for m in row.media],
                archived=row.archived,
                version=row.version,
                updated_at=row.updated_at,
            )
        )
    exercises.sort(key=sort_key)
    return Snapshot(
        version=version,
        exercises=exercises,
        by_slug={e.slug: e for e in exercises},
        required_equipment=required,
        muscles=[MusclePublic(slug=m.slug, name=m.name, location=m.location) for m in muscles],
        equipment=[
            EquipmentPublic(slug=e.slug, name=e.name, description=e.description) for e in equipment
        ],
        rule_catalog={r.slug: rule_info(r) for r in rows},
    )
