"""The written documentation stands on its own: README and docs/ point only inside the
repository, and every file they link to is there (issue 17: a user's clone has nothing
beside it)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import project_root

LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# A path in backticks that climbs out of where it is written (`../shared/DESIGN.md`).
CLIMBING = re.compile(r"`\.\./[^`]*`")


def written_docs() -> list[Path]:
    root = project_root()
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def test_readme_and_docs_point_nowhere_outside_the_repository() -> None:
    root = project_root().resolve()
    outside = []
    for page in written_docs():
        text = page.read_text(encoding="utf-8")
        outside += [f"{page.name}: {m}" for m in CLIMBING.findall(text)]
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):  # a URL: http(s) only to the service itself
                if not target.startswith(("http://127.0.0.1", "http://localhost")):
                    outside.append(f"{page.name}: {target}")
                continue
            resolved = (page.parent / target).resolve()
            if not resolved.is_relative_to(root) or not resolved.exists():
                outside.append(f"{page.name}: {target}")
    assert not outside


def test_the_docs_the_readme_names_are_there() -> None:
    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    for name in ("docs/api.md", "docs/clinical.md", "docs/rules.md"):
        assert f"]({name})" in readme, name
