"""Platform records as a mobile app serialises them (issue 20), shared by the import tests.

Written from the platforms' documented property names: Health Connect's
androidx.health.connect.client.records (ExerciseSessionRecord, ExerciseSegment,
HeartRateRecord and its Sample, Metadata) and HealthKit's HKWorkout and HKQuantitySample.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

START = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
URL = "/v1/wearable/imports/health-connect"


def at(seconds: float) -> str:
    return (START + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def health_connect(
    record_id: str = "3b1c9a8e-5f0d-4c1e-9d2a-7e6f5a4b3c2d",
    exercise_type: str = "EXERCISE_TYPE_STRENGTH_TRAINING",
    samples: int = 600,
    segments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An exercise session of 20 minutes in Madrid (UTC+01:00) and its heart rate."""
    return {
        "exerciseSession": {
            "startTime": at(0),
            "startZoneOffset": "+01:00",
            "endTime": at(1200),
            "endZoneOffset": "+01:00",
            "exerciseType": exercise_type,
            "title": "Back routine",
            "notes": "Felt fine",
            "segments": segments
            if segments is not None
            else [
                {"startTime": at(60), "endTime": at(180),
                 "segmentType": "EXERCISE_SEGMENT_TYPE_HIP_THRUST", "repetitions": 10},
                {"startTime": at(180), "endTime": at(240),
                 "segmentType": "EXERCISE_SEGMENT_TYPE_REST"},
                {"startTime": at(240), "endTime": at(400),
                 "segmentType": "EXERCISE_SEGMENT_TYPE_BACK_EXTENSION", "repetitions": 8,
                 "setIndex": 1, "rateOfPerceivedExertion": 5.0},
                {"startTime": at(400), "endTime": at(500),
                 "segmentType": "EXERCISE_SEGMENT_TYPE_KETTLEBELL_SWING", "repetitions": 12},
            ],
            "metadata": {
                "id": record_id,
                "dataOrigin": {"packageName": "com.google.android.apps.fitness"},
                "lastModifiedTime": at(1300),
                "clientRecordId": "routine-2026-11-20",
                "clientRecordVersion": 1,
                "recordingMethod": 2,
                "device": {"manufacturer": "Google", "model": "Pixel Watch 3", "type": 1},
            },
        },
        "heartRate": [
            {
                "startTime": at(-60),
                "endTime": at(1260),
                "samples": [
                    # A minute before the session, then the session at 1 Hz.
                    *({"time": at(i - 60), "beatsPerMinute": 70} for i in range(10)),
                    *({"time": at(i), "beatsPerMinute": 90 + i % 40} for i in range(samples)),
                ],
                "metadata": {"id": "hr-0001"},
            }
        ],
    }  # fmt: skip


def send(
    client: TestClient, headers: dict[str, str], payload: Any, key: str = "k1", **extra: str
) -> Any:
    raw = json.dumps(payload).encode()
    if extra.pop("gzipped", None):
        raw = gzip.compress(raw)
        extra["Content-Encoding"] = "gzip"
    h = {**headers, "Content-Type": "application/json", "Idempotency-Key": key, **extra}
    return client.post(URL, headers=h, content=raw)


HK_URL = "/v1/wearable/imports/healthkit"


def healthkit(
    uuid_: str = "6E3A4B5C-1D2E-4F60-8A9B-0C1D2E3F4A5B",
    activity: str = "traditionalStrengthTraining",
    samples: int = 240,
) -> dict[str, Any]:
    """An HKWorkout of 20 minutes in New York in winter (UTC-05:00) and its heart rate,
    sampled every 5 s as an Apple Watch does during a workout."""
    return {
        "workout": {
            "uuid": uuid_,
            "workoutActivityType": activity,
            "startDate": at(0),
            "endDate": at(1200),
            "duration": 1200.0,
            "totalEnergyBurned": {"unit": "kJ", "value": 418.4},
            "metadata": {"HKTimeZone": "America/New_York", "HKIndoorWorkout": True},
            "workoutActivities": [
                {"uuid": "A-1", "workoutConfiguration": {"activityType": activity},
                 "startDate": at(0), "endDate": at(1200), "duration": 1200.0}
            ],
            "device": {"name": "Apple Watch", "manufacturer": "Apple Inc.", "model": "Watch",
                       "hardwareVersion": "Watch7,1", "softwareVersion": "11.1"},
        },
        "heartRate": [
            {"uuid": f"hr-{i}", "startDate": at(5 * i), "endDate": at(5 * i),
             "quantity": {"unit": "count/min", "value": 88.0 + i % 30}}
            for i in range(samples)
        ] + [
            # After the workout ended: not the workout's.
            {"uuid": "late", "startDate": at(1500), "endDate": at(1500),
             "quantity": {"unit": "count/min", "value": 70.0}}
        ],
    }  # fmt: skip


def send_hk(client: TestClient, headers: dict[str, str], payload: Any, key: str = "k1") -> Any:
    h = {**headers, "Content-Type": "application/json", "Idempotency-Key": key}
    return client.post(HK_URL, headers=h, content=json.dumps(payload).encode())
