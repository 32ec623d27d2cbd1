"""Endpoints for wearables; a device token works here and nowhere else."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import DeviceAuth
from api.errors import problem_responses
from api.schemas.accounts import DeviceIdentity

router = APIRouter(prefix="/v1/wearable", tags=["wearable"], responses=problem_responses(401))


@router.get("/device", summary="Which device this token belongs to (for pairing checks)")
def whoami(device: DeviceAuth) -> DeviceIdentity:
    return DeviceIdentity(device_id=device.id, name=device.name, user_id=device.user_id)
