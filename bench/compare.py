"""A/B of catalog reads: this checkout against another one, in the same run.

``python -m bench.compare BASE_DIR [--rounds 6] [--seconds 3]``, where BASE_DIR is a
checkout of the revision to compare with (``git worktree add /tmp/base <rev>``). Both
apps serve one worker each from a seeded SQLite database of their own, pinned to the
same core; wrk (required) is pinned to the other. Rounds alternate which app goes first,
so both see the same machine; the medians and their ratio are printed. On a shared
host single runs of ``python -m bench`` swing by 2x; this is the figure to compare.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.__main__ import LOAD_CORES, ROOT, SERVER_CORES, _free_port

PY = sys.executable
SCENARIOS = {
    "exercises: full list": ("/v1/exercises", False),
    "exercises: 304 revalidation": ("/v1/exercises", True),
    "exercise detail": ("/v1/exercises/superman", False),
}


def _pinned(cores: set[int] | None) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, sorted(cores)))] if cores else []


def _serve(tree: Path, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    # Production defaults (issue 16): the JSON access log stays on; it goes to a file.
    env = {**os.environ, "BACKSTRONG_DATABASE_URL": f"sqlite:///{tmp / (tree.name + '.db')}"}
    env.pop("DATABASE_URL", None)
    env.pop("BACKSTRONG_LOG_LEVEL", None)
    for command in (["migrate"], ["seed"]):
        subprocess.run(
            [PY, "-m", "api.cli", *command], cwd=tree, env=env, check=True, capture_output=True
        )
    port = _free_port()
    proc = subprocess.Popen(
        [*_pinned(SERVER_CORES), PY, "-m", "uvicorn", "api.main:app", "--port", str(port)]
        + ["--workers", "1", "--no-access-log", "--log-level", "warning"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / f"{tree.name}-server.log").open("wb"),
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc, port
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench.compare: the app in {tree} did not start") from None
            time.sleep(0.1)


def _rps(url: str, headers: list[str], seconds: int) -> float:
    wrk = shutil.which("wrk")
    assert wrk is not None
    cmd = [*_pinned(LOAD_CORES), wrk, "-t1", "-c32", f"-d{seconds}s"]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"bench.compare: cannot read wrk's output:\n{out}")
    return float(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare")
    parser.add_argument("base", type=Path, help="a checkout of the revision to compare with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("bench.compare needs wrk (apt-get install wrk)")
    trees = {"base": args.base.resolve(), "this": ROOT}
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="backstrong-compare-") as tmp:
        servers = {name: _serve(tree, Path(tmp)) for name, tree in trees.items()}
        try:
            etags = {
                name: urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/exercises").headers[
                    "ETag"
                ]
                for name, (_, port) in servers.items()
            }
            for round_ in range(args.rounds):
                order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
                for scenario, (path, revalidate) in SCENARIOS.items():
                    for name in order:
                        headers = [f"If-None-Match: {etags[name]}"] if revalidate else []
                        url = f"http://127.0.0.1:{servers[name][1]}{path}"
                        results.setdefault((scenario, name), []).append(
                            _rps(url, headers, args.seconds)
                        )
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=10)
    print(f"base: {trees['base']}; {args.rounds} alternating rounds of {args.seconds}s each")
    for scenario in SCENARIOS:
        base = statistics.median(results[(scenario, "base")])
        this = statistics.median(results[(scenario, "this")])
        print(
            f"{scenario:30s} base {base:8.0f} req/s   this {this:8.0f} req/s   "
            f"this/base {this / base:.2f}"
        )


if __name__ == "__main__":
    main()
