"""How requests hold database connections."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.deps import CurrentUser, DeviceAuth, SessionDep
from tests.conftest import Account


def test_a_person_request_uses_one_connection_and_a_device_request_hands_its_back(
    app: FastAPI, client: TestClient, user: Account
) -> None:
    # A person's request reads the account and goes on in the same transaction (one pool
    # checkout): it got here with a place from api/admission.py, and there are fewer
    # places than connections, so a connection kept across FastAPI's hop from the
    # dependency to the endpoint never leaves another request without one.
    # Device authentication may write (last seen), so it commits and hands back.
    checkouts: list[object] = []
    engine = app.state.engine

    def count(*_args: object) -> None:
        checkouts.append(None)

    def holding_user(_user: CurrentUser, session: SessionDep) -> dict[str, bool]:
        return {"in_transaction": session.in_transaction()}

    def holding_device(_device: DeviceAuth, session: SessionDep) -> dict[str, bool]:
        return {"in_transaction": session.in_transaction()}

    app.add_api_route("/test-only/user", holding_user)
    app.add_api_route("/test-only/device", holding_device)
    device = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"})
    token = device.json()["token"]

    event.listen(engine.pool, "checkout", count)
    try:
        as_user = client.get("/test-only/user", headers=user.headers)
        assert len(checkouts) == 1
        as_device = client.get("/test-only/device", headers={"Authorization": f"Bearer {token}"})
    finally:
        event.remove(engine.pool, "checkout", count)
    assert as_user.json() == {"in_transaction": True}
    assert as_device.json() == {"in_transaction": False}
    # The user loaded by the dependency is still usable in the endpoint.
    assert client.get("/v1/me", headers=user.headers).json()["email"] == user.email
