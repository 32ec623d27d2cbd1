"""How the phone platforms' workout records map onto Backstrong (issue 20): read once per
process from seed_data/health_platforms.yaml. Its segment types are the seed of the
admin-editable mapping (api/services/segment_mappings.py), which imports read."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

PLATFORMS_FILE = Path(__file__).resolve().parents[2] / "seed_data" / "health_platforms.yaml"


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HealthConnectMap(_Data):
    # The exercise types a Backstrong session is recorded as.
    exercise_types: tuple[str, ...]
    # Segment type name -> catalog slug, or None: known, kept, no catalog exercise. The
    # seed of the segment_type_mappings table, which admins edit.
    segment_types: dict[str, str | None]


class HealthKitMap(_Data):
    # The HKWorkoutActivityType names a Backstrong session is recorded as.
    workout_activity_types: tuple[str, ...]


class PlatformMaps(_Data):
    health_connect: HealthConnectMap
    healthkit: HealthKitMap


@lru_cache(maxsize=4)
def load_platform_maps(path: Path = PLATFORMS_FILE) -> PlatformMaps:
    with path.open(encoding="utf-8") as handle:
        return PlatformMaps.model_validate(yaml.safe_load(handle))
