"""All tables, imported here so Alembic and tests see the whole metadata."""

from api.models.accounts import Device, LoginFailure, RefreshToken, User
from api.models.catalog import Equipment, Exercise, ExerciseEquipment, ExerciseMuscle, Muscle

__all__ = [
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
