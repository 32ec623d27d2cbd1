"""Layers: services, the domain and the error types never reach the web framework.

FastAPI and Starlette belong to the HTTP layer (routes, dependencies, middleware,
``api.problems``). Services and the domain are called from the CLI, the seed and
benchmarks as much as from requests, and raise the framework-free errors of
``api.errors``; the HTTP layer turns those into responses.

The check reads the source (the AST of every module under ``api/``), not what happens to
be imported at run time, and follows imports of ``api.*`` modules transitively: a service
importing ``api.db``, which imported ``fastapi``, counts as a service importing ``fastapi``.
An import inside a function counts as much as one at the top of a module; only
``if TYPE_CHECKING:`` blocks are skipped, as they never run. Importing ``api.x.y`` also
runs the ``__init__`` of ``api`` and ``api.x``, so those are followed too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache
from pathlib import Path

from tests.conftest import project_root

PACKAGE = "api"
FRAMEWORKS = ("fastapi", "starlette")
# Besides every module of these packages...
PURE_PACKAGES = ("api.services", "api.domain")
# ...these modules, which services import, stay framework-free too.
PURE_MODULES = ("api.errors", "api.db", "api.pagination")


@cache
def module_files() -> dict[str, Path]:
    """Module name -> file, for every .py file of the package (packages by __init__)."""
    root = project_root()
    files: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, outside `if TYPE_CHECKING:` blocks."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _with_parents(module: str) -> list[str]:
    """`api.x.y` -> [`api`, `api.x`, `api.x.y`]: importing a module runs its packages."""
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


@cache
def imports_of(module: str) -> frozenset[str]:
    """What `module` imports: `api.*` modules by full name, anything else by top package."""
    files = module_files()
    path = files[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [base]
            # `from api.x import y` imports the submodule api.x.y when there is one.
            targets += [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in files]
        for target in targets:
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                out.update(m for m in _with_parents(target) if m in files and m != module)
            else:
                out.add(target.split(".")[0])
    return frozenset(out)


def framework_paths(module: str) -> list[list[str]]:
    """One import chain from `module` to each framework it reaches, directly or not."""
    parent: dict[str, str | None] = {module: None}
    queue = [module]
    reached: dict[str, str] = {}  # framework -> the api module that imports it
    while queue:
        current = queue.pop(0)
        for target in sorted(imports_of(current)):
            if target in FRAMEWORKS:
                reached.setdefault(target, current)
            elif target in module_files() and target not in parent:
                parent[target] = current
                queue.append(target)
    chains = []
    for framework, importer in sorted(reached.items()):
        chain: list[str] = [framework]
        step: str | None = importer
        while step is not None:
            chain.append(step)
            step = parent[step]
        chains.append(chain[::-1])
    return chains


def pure_modules() -> list[str]:
    inside = [
        name
        for name in module_files()
        if any(name == p or name.startswith(p + ".") for p in PURE_PACKAGES)
    ]
    return sorted(inside) + list(PURE_MODULES)


def test_the_graph_is_read() -> None:
    # Guards the checks below against passing because nothing was found.
    assert len(module_files()) > 40
    assert {"sqlmodel", "api.errors", "api.models"} <= imports_of("api.services.accounts")
    assert "fastapi" in imports_of("api.routes.auth")
    assert "api.domain" in imports_of("api.domain.rules")
    assert framework_paths("api.routes.auth")


def test_services_domain_and_errors_never_reach_the_web_framework() -> None:
    modules = pure_modules()
    assert len(modules) > 25
    offending = {
        name: [" -> ".join(chain) for chain in chains]
        for name in modules
        if (chains := framework_paths(name))
    }
    assert not offending, (
        "services, the domain and api.errors/db/pagination must not import FastAPI or "
        "Starlette, not even through other api modules (raise api.errors types and let "
        f"the HTTP layer add headers): {offending}"
    )


def test_importing_every_service_loads_no_web_framework() -> None:
    # The same at run time, in a fresh interpreter: catches a framework pulled in by a
    # third-party library too.
    modules = pure_modules()
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project_root(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip() == "[]", done.stdout
