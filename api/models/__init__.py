"""All tables, imported here so Alembic and tests see the whole metadata."""

from api.models.accounts import Device, LoginFailure, RefreshToken, User
from api.models.catalog import (
    CatalogState,
    Equipment,
    Exercise,
    ExerciseEquipment,
    ExerciseMuscle,
    ExerciseRevision,
    Muscle,
)

__all__ = [
    "CatalogState",
    "ExerciseRevision",
    "Device",
    "Equipment",
    "Exercise",
    "ExerciseEquipment",
    "ExerciseMuscle",
    "LoginFailure",
    "Muscle",
    "RefreshToken",
    "User",
]
