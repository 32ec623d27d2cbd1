"""GET /metrics as Prometheus scrapes it: counts by route template, never by concrete path."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from api.catalog_replay import DETAIL_TEMPLATE, LIST_TEMPLATES
from api.cli import main
from api.config import Settings
from api.main import create_app
from api.metrics import MULTIPROC_ENV, UNMATCHED
from api.services.seed import SeedReport
from tests.conftest import TEST_SECRET, Account, project_root
from tests.conftest import test_settings as make_settings

REQUESTS = "backstrong_http_requests_total"
DURATION_COUNT = "backstrong_http_request_duration_seconds_count"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient, **headers: str) -> tuple[str, Samples]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return response.text, samples


def requests(samples: Samples, route: str, status: int, method: str = "GET") -> float:
    labels = (("method", method), ("route", route), ("status", str(status)))
    return samples.get((REQUESTS, labels), 0)


def timed(samples: Samples, route: str, method: str = "GET") -> float:
    return samples.get((DURATION_COUNT, (("method", method), ("route", route))), 0)


@pytest.fixture
def fast_path_hits(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths the catalog fast path answered itself, before routing."""
    cache = app.state.catalog_cache
    original = cache.replayed
    hits: list[str] = []

    def spy(version: int, path: str, query: bytes) -> Any:
        hit = original(version, path, query)
        if hit is not None:
            hits.append(path)
        return hit

    monkeypatch.setattr(cache, "replayed", spy)
    return hits


def test_requests_are_counted_by_route_template_and_status(
    client: TestClient, seeded: SeedReport, user: Account, fast_path_hits: list[str]
) -> None:
    first = client.get("/v1/exercises/superman")
    assert first.status_code == 200
    assert client.get("/v1/exercises/superman").status_code == 200
    revalidated = client.get(
        "/v1/exercises/superman", headers={"If-None-Match": first.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert client.get("/v1/exercises").status_code == 200
    assert client.get("/v1/exercises").status_code == 200
    assert client.get("/v1/exercises/no-such-exercise").status_code == 404
    session_id = str(uuid.uuid4())
    assert client.get(f"/v1/sessions/{session_id}", headers=user.headers).status_code == 404
    assert client.get(f"/v1/sessions/{session_id}").status_code == 401
    stray_id = str(uuid.uuid4())
    assert client.get(f"/no/such/{stray_id}").status_code == 404

    # The repeats were answered before routing, and still counted.
    assert fast_path_hits == ["/v1/exercises/superman"] * 2 + ["/v1/exercises"]
    text, samples = scrape(client)
    assert requests(samples, "/v1/exercises/{slug}", 200) == 2
    assert requests(samples, "/v1/exercises/{slug}", 304) == 1
    assert requests(samples, "/v1/exercises/{slug}", 404) == 1
    assert timed(samples, "/v1/exercises/{slug}") == 4
    assert requests(samples, "/v1/exercises", 200) == 2
    assert requests(samples, "/v1/sessions/{session_id}", 404) == 1
    assert requests(samples, "/v1/sessions/{session_id}", 401) == 1
    assert requests(samples, UNMATCHED, 404) == 1
    assert requests(samples, "/v1/auth/token", 200, method="POST") == 1  # the fixture signing in
    # Labels hold templates only: no ids, slugs, tokens or query strings.
    for concrete in (session_id, stray_id, user.id, user.access_token, "superman", "no-such"):
        assert concrete not in text
    routes = {dict(labels)["route"] for (name, labels) in samples if name == REQUESTS}
    assert all(r == UNMATCHED or r.startswith("/") for r in routes), routes


def test_prometheus_text_format_by_default_openmetrics_on_request(client: TestClient) -> None:
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert "# TYPE backstrong_http_requests_total counter" in response.text
    assert "# TYPE backstrong_http_request_duration_seconds histogram" in response.text
    # The standard process and runtime collectors are there too.
    assert "process_cpu_seconds_total" in response.text
    assert "python_info" in response.text

    negotiated = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert negotiated.headers["content-type"].startswith("application/openmetrics-text")
    assert negotiated.text.endswith("# EOF\n")


def test_the_scrape_itself_is_counted_after_it(client: TestClient) -> None:
    _, before = scrape(client)
    assert requests(before, "/metrics", 200) == 0
    _, after = scrape(client)
    assert requests(after, "/metrics", 200) == 1


def test_plain_routes_and_mounts_have_templates_too(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/static/swagger-ui/swagger-ui.css").status_code == 200
    assert client.get("/static/no-such-file.js").status_code == 404
    _, samples = scrape(client)
    assert requests(samples, "/openapi.json", 200) == 1
    assert requests(samples, "/static/{path}", 200) == 1
    assert requests(samples, "/static/{path}", 404) == 1


def test_unexpected_methods_share_one_label(client: TestClient) -> None:
    assert client.request("BREW", "/healthz").status_code == 405
    text, samples = scrape(client)
    assert requests(samples, "/healthz", 405, method="OTHER") == 1
    assert "BREW" not in text


def test_refused_before_routing_is_unmatched(client: TestClient) -> None:
    big = b"x" * (1024 * 1024 + 1)
    response = client.post(
        "/v1/checkins", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    _, samples = scrape(client)
    assert requests(samples, UNMATCHED, 413, method="POST") == 1


def test_fast_path_templates_are_the_catalog_routes(app: FastAPI) -> None:
    gets = {c.path_format for c in iter_route_contexts(app.routes) if "GET" in (c.methods or ())}
    assert {*LIST_TEMPLATES, DETAIL_TEMPLATE} <= gets


def test_each_app_counts_only_its_own_requests(
    client: TestClient, settings: Settings, db: Engine
) -> None:
    # A second app in the same process registers its metrics without a clash.
    with TestClient(create_app(settings, engine=db)) as other:
        for _ in range(3):
            other.get("/healthz")
        _, theirs = scrape(other)
    client.get("/healthz")
    _, ours = scrape(client)
    assert requests(theirs, "/healthz", 200) == 3
    assert requests(ours, "/healthz", 200) == 1


def test_metrics_stay_out_of_the_openapi_document(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_metrics_can_be_turned_off(database_url: str, db: Engine) -> None:
    app = create_app(make_settings(database_url, metrics_enabled=False), engine=db)
    assert app.state.metrics is None
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 404


# Two worker processes with the variable set before prometheus_client is imported.
# Forked after the (slow) imports, as a pre-loading server forks its workers, so the
# test pays for one interpreter start instead of one per worker.
WORKERS = """
import os
import sys

from fastapi.testclient import TestClient

from api.config import Settings
from api.main import create_app


def serve(requests):
    app = create_app(Settings(database_url=sys.argv[1], secret_key=sys.argv[2]))
    assert app.state.metrics.multiprocess
    client = TestClient(app)
    for _ in range(requests):
        assert client.get("/healthz").status_code == 200


children = []
for requests in (3, 4):
    pid = os.fork()
    if pid == 0:
        try:
            serve(requests)
        except BaseException:
            os._exit(1)
        os._exit(0)
    children.append(pid)
sys.exit(any(os.waitpid(pid, 0)[1] for pid in children))
"""


def test_multiprocess_mode_sums_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    subprocess.run(
        [sys.executable, "-c", WORKERS, url, TEST_SECRET],
        cwd=project_root(),
        env={**os.environ, MULTIPROC_ENV: str(shared)},
        check=True,
        timeout=120,
    )
    assert len(list(shared.glob("counter_*.db"))) == 2  # one file per worker pid

    monkeypatch.setenv(MULTIPROC_ENV, str(shared))
    reader = create_app(Settings(database_url=url, secret_key=TEST_SECRET))
    assert reader.state.metrics.multiprocess
    _, samples = scrape(TestClient(reader))
    assert requests(samples, "/healthz", 200) == 7
    assert timed(samples, "/healthz") == 7


@pytest.fixture
def serve_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """`backstrong serve` up to the point where uvicorn would start."""
    for name in ("BACKSTRONG_ENV", "BACKSTRONG_WORKERS", "BACKSTRONG_METRICS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env file
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: started.append(kwargs))
    return started


def test_serve_empties_the_multiprocess_dir_first(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    serve_env: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    shared = tmp_path / "prometheus"
    shared.mkdir()
    (shared / "counter_1234.db").write_bytes(b"stale")
    (shared / "histogram_1234.db").write_bytes(b"stale")
    (shared / "README").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_ENV, str(shared))

    assert main(["serve", "--workers", "2"]) == 0
    assert serve_env[0]["workers"] == 2
    assert sorted(p.name for p in shared.iterdir()) == ["README"]
    assert "2 stale file(s) removed" in capsys.readouterr().out

    missing = tmp_path / "created" / "prometheus"
    monkeypatch.setenv(MULTIPROC_ENV, str(missing))
    assert main(["serve"]) == 0
    assert missing.is_dir()


def test_serve_notes_per_worker_metrics_without_the_dir(
    monkeypatch: pytest.MonkeyPatch,
    serve_env: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    assert main(["serve", "--workers", "3"]) == 0
    assert MULTIPROC_ENV in capsys.readouterr().err
    assert main(["serve", "--workers", "1"]) == 0
    assert capsys.readouterr().err == ""
    assert len(serve_env) == 2
