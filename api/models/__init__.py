"""All tables, imported here so Alembic and tests see the whole metadata."""

# Registers the session events that move a person's eval_version with every write to
# what the rules read (api/changes.py): wherever tables are written, they are loaded.
import api.changes  # noqa: F401
from api.models.accounts import Device, LoginFailure, OutboxMessage, RefreshToken, User
from api.models.catalog import (
    CatalogState,
    Equipment,
    Exercise,
    ExerciseEquipment,
    ExerciseMuscle,
    ExerciseRevision,
    Muscle,
)
from api.models.clinicians import (
    Alert,
    ClinicianAction,
    ClinicianInvitation,
    ClinicianLink,
    ClinicianPlan,
)
from api.models.outcomes import OutcomeRow
from api.models.pain import AdviceRow, CheckInRow, UserThresholds
from api.models.screening import Screening
from api.models.sync import Tombstone
from api.models.training import DoseChange, RoutineItem, SessionLogRow, TrainingSession
from api.models.wearable import (
    IdempotencyKey,
    PersonIdempotencyKey,
    SegmentTypeMapping,
    WearableUpload,
)

__all__ = [
    "Alert",
    "ClinicianAction",
    "ClinicianInvitation",
    "ClinicianLink",
    "ClinicianPlan",
    "IdempotencyKey",
    "PersonIdempotencyKey",
    "SegmentTypeMapping",
    "WearableUpload",
    "DoseChange",
    "RoutineItem",
    "SessionLogRow",
    "TrainingSession",
    "AdviceRow",
    "CheckInRow",
    "UserThresholds",
    "CatalogState",
    "ExerciseRevision",
    "Device",
    "Equipment",
    "Exercise",
    "ExerciseEquipment",
    "ExerciseMuscle",
    "LoginFailure",
    "OutboxMessage",
    "OutcomeRow",
    "Muscle",
    "RefreshToken",
    "Screening",
    "Tombstone",
    "User",
]
