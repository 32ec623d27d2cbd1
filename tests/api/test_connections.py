"""A request holds a database connection only while a worker thread is using it."""

from __future__ import annotations

import threading
import time

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.config import Settings
from api.db import make_engine
from api.deps import CurrentUser, DeviceAuth, SessionDep
from api.main import create_app, request_threads
from tests.conftest import Account
from tests.conftest import test_settings as make_settings


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


def test_no_more_request_threads_than_connections_for_them(settings: Settings, db: Engine) -> None:
    """Sync hops beyond the pool would wait for a connection up to the pool timeout and be
    answered 503; they queue for a thread instead (bench.load at 200 clients)."""
    small = make_settings(
        settings.database_url, db_pool_size=4, db_max_overflow=2, hash_concurrency=1
    )
    app = create_app(small, engine=make_engine(small))
    running: list[int] = []
    peak: list[int] = []
    gate = threading.Lock()

    def busy() -> dict[str, int]:
        with gate:
            running.append(1)
            peak.append(len(running))
        time.sleep(0.05)
        with gate:
            running.pop()
        return {}

    app.add_api_route("/test-only/busy", busy)
    with TestClient(app) as client:
        threads = [
            threading.Thread(target=lambda: client.get("/test-only/busy")) for _ in range(12)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    # 6 connections, one kept by the catalog version probe, one per password hash.
    assert request_threads(small) == 4
    assert max(peak) <= 4
    assert len(peak) == 12
