"""Benchmarks: Backstrong against a bare ASGI app returning the same bytes.

``make bench`` (or ``python -m bench [--seconds N] [--connections N] [--only NAME]``).
Both servers run in uvicorn with one worker, pinned to one core, on a seeded SQLite
database; the load generator (wrk when installed, else bench/loadgen.py) is pinned
to another core. Prints req/s, p50 and p99 per scenario and the ratio to the bare app.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
# Set per connection by the server itself; recording them would break keep-alive.
HOP_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    # Fetch this path first and send its ETag as If-None-Match (a 304 revalidation).
    revalidate: bool = False
    method: str = "GET"
    body: str = ""
    # Which bench account signs the request (see ACCOUNTS), if any.
    account: str | None = None


# Accounts made before the run: name -> stored sessions (for the list-latency test).
ACCOUNTS = {"builder": 0, "sessions-1k": 1_000, "sessions-100k": 100_000}
ACCOUNT_PASSWORD = "bench-password-1"
SESSION_BODY = json.dumps({"minutes": 30, "equipment": ["mat", "resistance-band"]})

# Later features add their scenarios here.
SCENARIOS: list[Scenario] = [
    Scenario("healthz", "/healthz"),
    Scenario("readyz (database round trip)", "/readyz"),
    Scenario("exercises: full list", "/v1/exercises"),
    Scenario("exercises: 304 revalidation", "/v1/exercises", revalidate=True),
    Scenario("exercise detail", "/v1/exercises/superman"),
    Scenario("exercises: filtered", "/v1/exercises?equipment=mat&max_difficulty=2"),
    Scenario("sessions: build (POST)", "/v1/sessions", method="POST", body=SESSION_BODY,
             headers={"Content-Type": "application/json"}, account="builder"),
    Scenario("sessions: log retry (PUT)", "/v1/sessions/{logged}/log", method="PUT",
             headers={"Content-Type": "application/json"}, account="builder"),
    Scenario("sessions: list, 1,000 stored", "/v1/sessions?limit=50", account="sessions-1k"),
    Scenario("sessions: list, 100,000 stored", "/v1/sessions?limit=50",
             account="sessions-100k"),
]  # fmt: skip

FLOOD_EMAIL = "flood@example.com"
FLOOD_PASSWORD = "flood-password-1"


def _cores() -> tuple[set[int] | None, set[int] | None]:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return {cores[0]}, {cores[1]}


SERVER_CORES, LOAD_CORES = _cores()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pin(cores: set[int] | None):  # type: ignore[no-untyped-def]
    def apply() -> None:
        if cores:
            os.sched_setaffinity(0, cores)

    return apply


@contextmanager
def serve(app: str, env: dict[str, str]) -> Iterator[int]:
    """Serve `app` on a free port; its output (the access log: a line per request) goes to
    a temporary file, not the terminal, and is shown only if it fails to start."""
    port = _free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
            "--no-server-header",  # as `backstrong serve`
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        preexec_fn=_pin(SERVER_CORES),  # noqa: PLW1509
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # it answers; the bare app need not know /healthz
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-4000:]
                    raise RuntimeError(f"{app} did not start:\n{tail}") from None
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _request(
    port: int, path: str, headers: dict[str, str], method: str = "GET", body: str = ""
) -> tuple[int, list[tuple[str, str]], bytes]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        headers=headers,
        method=method,
        data=body.encode() if body else None,
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, list(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, list(exc.headers.items()), exc.read()


def load(
    port: int,
    path: str,
    headers: dict[str, str],
    seconds: float,
    connections: int,
    method: str = "GET",
    body: str = "",
) -> dict[str, float]:
    header_lines = [f"{k}: {v}" for k, v in headers.items()]
    wrk = shutil.which("wrk")
    if wrk and method == "GET":
        cmd = [wrk, "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
        for line in header_lines:
            cmd += ["-H", line]
        out = subprocess.run(
            [*cmd, f"http://127.0.0.1:{port}{path}"],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=_pin(LOAD_CORES),  # noqa: PLW1509
        ).stdout
        return _parse_wrk(out)
    out = subprocess.run(
        [
            PY,
            "-m",
            "bench.loadgen",
            f"--port={port}",
            f"--path={path}",
            f"--seconds={seconds}",
            f"--connections={connections}",
            f"--method={method}",
            f"--body={body}",
            *(f"--header={line}" for line in header_lines),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        preexec_fn=_pin(LOAD_CORES),  # noqa: PLW1509
    ).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def _parse_wrk(out: str) -> dict[str, float]:
    def ms(text: str) -> float:
        found = re.match(r"([\d.]+)(\w+)", text)
        if found is None:
            raise SystemExit(f"bench: cannot read wrk's output:\n{out}")
        value, unit = found.groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # Anchored to the start of a line: "+/- Stdev" columns such as "87.50%" also end
    # in a percentage that must not be read as the 50th percentile.
    p50 = ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": int(errors.group(1)) if errors else 0,
    }


def login_flood(port: int, seconds: float, connections: int) -> dict[str, dict[str, float]]:
    """Catalog reads alone, then beside a flood of sign-ins (each one an Argon2 hash)."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/auth/register",
        data=json.dumps({"email": FLOOD_EMAIL, "password": FLOOD_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(req, timeout=10).read()
    alone = load(port, "/v1/exercises", {}, seconds, connections)
    flood = subprocess.Popen(
        [
            PY,
            "-m",
            "bench.loadgen",
            f"--port={port}",
            "--path=/v1/auth/token",
            "--method=POST",
            f"--body=username={FLOOD_EMAIL}&password={FLOOD_PASSWORD}",
            "--header=Content-Type: application/x-www-form-urlencoded",
            f"--seconds={seconds + 2}",
            "--connections=16",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_pin(LOAD_CORES),  # noqa: PLW1509
    )
    time.sleep(1.5)  # let the flood fill the hashing queue first
    flooded = load(port, "/v1/exercises", {}, seconds, connections)
    logins = json.loads(flood.communicate(timeout=seconds * 4 + 30)[0])
    return {"reads alone": alone, "reads during flood": flooded, "sign-ins": logins}


def prepare_database(
    workdir: Path, *, url: str | None = None, accounts: bool = True
) -> dict[str, str]:
    """Migrate, seed (and make the bench accounts); returns the served app's environment.

    That environment is the production defaults (log level INFO: the JSON access log on,
    one line per request, which serve() sends to a file); only the setup commands are
    quietened.
    """
    env = {**os.environ, "BACKSTRONG_DATABASE_URL": url or f"sqlite:///{workdir / 'bench.db'}"}
    env.pop("DATABASE_URL", None)
    env.pop("BACKSTRONG_LOG_LEVEL", None)
    quiet = {**env, "BACKSTRONG_LOG_LEVEL": "WARNING"}
    for command in (["migrate"], ["seed"]):
        subprocess.run(
            [PY, "-m", "api.cli", *command], cwd=ROOT, env=quiet, check=True, capture_output=True
        )
    if accounts:
        subprocess.run([PY, "-m", "bench.accounts"], cwd=ROOT, env=quiet, check=True)
    return env


def sign_in(port: int, account: str) -> str:
    form = f"username={account}@bench.example&password={ACCOUNT_PASSWORD}"
    status, _, body = _request(
        port,
        "/v1/auth/token",
        {"Content-Type": "application/x-www-form-urlencoded"},
        "POST",
        form,
    )
    assert status == 200, body
    return str(json.loads(body)["access_token"])


def prepare_log(port: int, headers: dict[str, str]) -> tuple[str, str]:
    """A built session and its log, stored once; the scenario then retries the same PUT."""
    status, _, body = _request(port, "/v1/sessions", headers, "POST", SESSION_BODY)
    assert status == 201, body
    planned = json.loads(body)
    now = time.time()
    log = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 1800)),
        "ended_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 60)),
        "entries": [
            {
                "exercise_slug": i["exercise_slug"],
                "sets_completed": i["sets"],
                "reps": [i["reps"] or 1] * i["sets"],
                "hold_seconds": i["hold_seconds"],
                "rpe": 4,
                "pain_during": 1,
            }
            for i in planned["items"]
            if i["block"] != "warmup"
        ],
    }
    path = f"/v1/sessions/{planned['id']}/log"
    status, _, body = _request(port, path, headers, "PUT", json.dumps(log))
    assert status == 200, body
    return path, json.dumps(log)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", help="run the scenarios whose name contains this")
    parser.add_argument("--no-flood", action="store_true", help="skip the login-flood test")
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or args.only in s.name]

    generator = "wrk" if shutil.which("wrk") else "bench/loadgen.py (asyncio)"
    pinning = (
        f"server on core {SERVER_CORES}, load on core {LOAD_CORES}"
        if SERVER_CORES
        else "no pinning (1 core)"
    )
    print(
        f"load generator: {generator}; {pinning}; "
        f"{args.connections} connections, {args.seconds:g}s each"
    )

    with tempfile.TemporaryDirectory(prefix="backstrong-bench-") as tmp:
        workdir = Path(tmp)
        env = prepare_database(workdir)
        recorded: dict[str, dict[str, object]] = {}
        plans: list[tuple[Scenario, dict[str, str], str]] = []
        results: dict[str, dict[str, dict[str, float]]] = {}
        with serve("api.main:app", env) as port:
            tokens = {name: sign_in(port, name) for name in ACCOUNTS}
            for sc in scenarios:
                headers = dict(sc.headers)
                if sc.account:
                    headers["Authorization"] = f"Bearer {tokens[sc.account]}"
                if sc.revalidate:
                    _, resp_headers, _ = _request(port, sc.path, headers)
                    headers["If-None-Match"] = dict(resp_headers)["etag"]
                target, body_text = sc.path, sc.body
                if "{logged}" in sc.path:
                    target, body_text = prepare_log(port, headers)
                sc = replace(sc, path=target, body=body_text)
                status, resp_headers, body = _request(port, sc.path, headers, sc.method, sc.body)
                path, _, query = sc.path.partition("?")
                key = f"{sc.method} {path}?{query}|{headers.get('If-None-Match', '')}"
                recorded[key] = {
                    "status": status,
                    "headers": [
                        (k.lower(), v) for k, v in resp_headers if k.lower() not in HOP_HEADERS
                    ],
                    "body": body.decode("latin-1"),
                }
                plans.append((sc, headers, key))
                results[sc.name] = {
                    "api": load(
                        port, sc.path, headers, args.seconds, args.connections, sc.method, sc.body
                    )
                }
            flood = None if args.no_flood else login_flood(port, args.seconds, args.connections)
        (workdir / "recorded.json").write_text(json.dumps(recorded))
        bare_env = {**env, "BENCH_RECORDED": str(workdir / "recorded.json")}
        with serve("bench.bare:app", bare_env) as port:
            for sc, headers, _ in plans:
                results[sc.name]["bare"] = load(
                    port, sc.path, headers, args.seconds, args.connections, sc.method, sc.body
                )

    print(f"{'scenario':34} {'target':6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for sc in scenarios:
        for target in ("api", "bare"):
            r = results[sc.name][target]
            print(
                f"{sc.name:34} {target:6} {r['rps']:9.0f} {r['p50_ms']:8.2f} "
                f"{r['p99_ms']:8.2f} {r['errors']:6.0f}"
            )
        api, bare = results[sc.name]["api"], results[sc.name]["bare"]
        print(
            f"{'':34} ratio  {api['rps'] / bare['rps']:9.2f}x of the bare app's req/s; "
            f"p99 {api['p99_ms'] / max(bare['p99_ms'], 1e-9):.1f}x"
        )

    small, big = "sessions: list, 1,000 stored", "sessions: list, 100,000 stored"
    if small in results and big in results:
        a, b = results[small]["api"], results[big]["api"]
        print(
            f"\nGET /v1/sessions with 100,000 vs 1,000 stored sessions: p50 "
            f"{b['p50_ms'] / a['p50_ms']:.2f}x, p99 {b['p99_ms'] / a['p99_ms']:.2f}x "
            "(goal: under 1.5)"
        )

    if flood is not None:
        alone, during, logins = (
            flood["reads alone"],
            flood["reads during flood"],
            flood["sign-ins"],
        )
        print(
            f"\nlogin flood ({logins['rps']:.1f} sign-ins/s, {logins['errors']:.0f} errors) "
            "beside GET /v1/exercises:"
        )
        print(f"  reads alone:        {alone['rps']:8.0f} req/s  p99 {alone['p99_ms']:7.2f} ms")
        print(f"  reads during flood: {during['rps']:8.0f} req/s  p99 {during['p99_ms']:7.2f} ms")
        print(
            f"  p99 ratio: {during['p99_ms'] / max(alone['p99_ms'], 1e-9):.2f}x (goal: within 2x)"
        )


if __name__ == "__main__":
    main()
