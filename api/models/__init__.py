"""All tables, imported here so Alembic and tests see the whole metadata."""

from api.models.catalog import Equipment, Exercise, ExerciseEquipment, ExerciseMuscle, Muscle

__all__ = ["Equipment", "Exercise", "ExerciseEquipment", "ExerciseMuscle", "Muscle"]
