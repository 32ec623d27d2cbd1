"""A request holds a database connection only while a worker thread is using it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import CurrentUser, DeviceAuth, SessionDep
from tests.conftest import Account


def test_authentication_hands_its_connection_back_before_the_endpoint_runs(
    app: FastAPI, client: TestClient, user: Account
) -> None:
    # FastAPI runs the auth dependency and the endpoint as separate worker-thread hops; a
    # connection kept between them is held while the request queues for a thread, and
    # under load threads and connections then wait on each other until the pool timeout.
    def holding_user(_user: CurrentUser, session: SessionDep) -> dict[str, bool]:
        return {"in_transaction": session.in_transaction()}

    def holding_device(_device: DeviceAuth, session: SessionDep) -> dict[str, bool]:
        return {"in_transaction": session.in_transaction()}

    app.add_api_route("/test-only/user", holding_user)
    app.add_api_route("/test-only/device", holding_device)
    device = client.post("/v1/me/devices", headers=user.headers, json={"name": "Band"})
    token = device.json()["token"]

    as_user = client.get("/test-only/user", headers=user.headers)
    as_device = client.get("/test-only/device", headers={"Authorization": f"Bearer {token}"})
    assert as_user.json() == {"in_transaction": False}
    assert as_device.json() == {"in_transaction": False}
    # The user loaded by the dependency is still usable in the endpoint.
    assert client.get("/v1/me", headers=user.headers).json()["email"] == user.email
