"""Edit an exercise's cautions as an admin does: in a real browser, on `/docs`.

Not part of the suite (it needs a browser): run it by hand after changing the catalog's
written shapes or the docs page. It serves a fresh SQLite database on 127.0.0.1:8765,
signs in with Swagger UI's Authorize button, sends `PATCH /v1/exercises/superman` with
the ETag in `If-Match` from the page, and checks the change and its revision.

    apt-get install chromium            # Debian's; nothing is downloaded at run time
    python3 -m venv /tmp/pw && /tmp/pw/bin/pip install playwright
    /tmp/pw/bin/python scripts/docs_browser_check.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
ADMIN, PASSWORD = "admin@clinic.example", "admin-pass-123456"
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def get(path: str, token: str | None = None) -> Any:
    request = urllib.request.Request(BASE + path)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    return json.load(urllib.request.urlopen(request))


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="docs-check-"))
    env = {
        **os.environ,
        "BACKSTRONG_DATABASE_URL": f"sqlite:///{work / 'docs.db'}",
        "BACKSTRONG_ADMIN_PASSWORD": PASSWORD,
    }
    for command in (["migrate"], ["seed"], ["create-admin", ADMIN]):
        subprocess.run([PY, "-m", "api.cli", *command], cwd=ROOT, env=env, check=True)
    with (work / "server.log").open("w") as log:
        server = subprocess.Popen(
            [PY, "-m", "api.cli", "serve", "--port", str(PORT)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(BASE + "/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        etag = urllib.request.urlopen(BASE + "/v1/exercises/superman").headers["ETag"]
        before = get("/v1/exercises/superman")["cautions"]
        wanted = [*before, "spinal-flexion"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(BASE + "/docs")
            page.get_by_role("button", name="Authorize").first.click()
            page.locator("#oauth_username").fill(ADMIN)
            page.locator("#oauth_password").fill(PASSWORD)
            page.locator(".auth-btn-wrapper button.authorize").first.click()
            page.wait_for_selector("text=Logout")
            page.locator("button.btn-done").first.click()
            op = page.locator("#operations-catalog-patchExercise")
            op.scroll_into_view_if_needed()
            op.locator(".opblock-summary").first.click()
            if op.get_by_role("button", name="Try it out").count():
                op.get_by_role("button", name="Try it out").click()
            op.locator("input[placeholder='slug']").fill("superman")
            op.locator("input[placeholder='if-match']").fill(etag)
            op.locator("textarea.body-param__text").fill(json.dumps({"cautions": wanted}))
            op.get_by_role("button", name="Execute").click()
            cell = op.locator(".live-responses-table tbody .response-col_status").first
            cell.wait_for()
            status = cell.inner_text().strip()
            op.screenshot(path=str(work / "patch.png"))
            browser.close()
        after = get("/v1/exercises/superman")
        form = f"username={ADMIN}&password={PASSWORD}".replace("@", "%40").encode()
        signed = urllib.request.Request(
            BASE + "/v1/auth/token",
            data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        token = json.load(urllib.request.urlopen(signed))["access_token"]
        revisions = get("/v1/exercises/superman/revisions", token)["items"]
        print(f"status in the page: {status}; before {before}; after {after['cautions']}")
        print(f"latest revision: {revisions[0]['source']} {revisions[0]['after']['cautions']}")
        print(f"screenshot: {work / 'patch.png'}")
        ok = status == "200" and after["cautions"] == wanted
        ok = ok and revisions[0]["source"] == "api" and revisions[0]["after"]["cautions"] == wanted
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
