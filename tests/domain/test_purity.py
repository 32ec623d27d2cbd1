"""The domain stays pure: no web framework, no database, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import api.domain

FORBIDDEN_MODULES = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "api.db", "api.models")
FORBIDDEN_CALLS = ("now", "utcnow", "today", "time")


def _domain_files() -> list[Path]:
    return sorted(Path(api.domain.__file__).parent.glob("*.py"))


def test_domain_imports_no_framework_or_database() -> None:
    files = _domain_files()
    assert len(files) >= 4
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN_MODULES), f"{path.name} imports {name}"


def test_domain_never_reads_the_clock() -> None:
    for path in _domain_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                owner_name = owner.id if isinstance(owner, ast.Name) else ""
                if owner_name in ("datetime", "date", "time"):
                    assert node.func.attr not in FORBIDDEN_CALLS, f"{path.name} reads the clock"
