"""No import cycles inside the `api` package.

The graph is read from the source (the AST of every .py file under api/), not from
what happens to be imported at run time, so an import inside a function counts as
much as one at the top of a module: a cycle hidden in a function body is still a
cycle, it only fails later (or in another import order).

Edges:
- `import api.x.y` and `from api.x.y import name` point at `api.x.y`; `from api.x import y`
  points at `api.x.y` when `y` is a submodule, else at `api.x` (whose __init__ then runs).
- Relative imports are resolved against the importing module's package.
- Importing `api.x.y` also runs the __init__ of the packages `api` and `api.x`, so those
  are edges too, except for packages that contain the importing module: Python is already
  importing them when it gets there, and a package's __init__ re-exporting its own
  submodules is not a cycle. An explicit `from api.x import Name` inside `api.x.sub`, on
  the other hand, is an edge (it reads the package's __init__, which may import back).
- `if TYPE_CHECKING:` blocks are skipped: they never run.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import project_root

PACKAGE = "api"

Graph = Mapping[str, Iterable[str]]


@dataclass
class ImportGraph:
    # module -> the modules it imports (only modules of PACKAGE)
    edges: dict[str, set[str]] = field(default_factory=dict)
    # (importer, imported) -> where, e.g. "api/services/advice.py:12"
    where: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def modules(self) -> set[str]:
        return set(self.edges)

    def edge_count(self) -> int:
        return sum(len(targets) for targets in self.edges.values())


def module_files(root: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Module name -> file, for every .py file of the package (packages by __init__)."""
    files: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    return files


def _ancestors(module: str) -> list[str]:
    """'a.b.c' -> ['a', 'a.b'] (the packages whose __init__ runs first)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (functions, classes, try, if), except the
    body of `if TYPE_CHECKING:`."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def resolve(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, known: set[str]
) -> set[str]:
    """The modules of `known` that this import statement names explicitly."""
    named: set[str] = set()
    if isinstance(node, ast.Import):
        named = {alias.name for alias in node.names}
    else:
        if node.level:
            base_parts = _package_of(importer, is_package).split(".")
            drop = node.level - 1
            if drop >= len(base_parts):
                raise AssertionError(f"{importer}: relative import above the top level")
            base = ".".join(base_parts[: len(base_parts) - drop])
            if node.module:
                base = f"{base}.{node.module}"
        else:
            base = node.module or ""
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            # `from pkg import sub` imports the submodule; `from mod import Name` reads mod.
            named.add(sub if alias.name != "*" and sub in known else base)
    return {m for m in named if m in known}


def build_graph(root: Path | None = None, package: str = PACKAGE) -> ImportGraph:
    root = root or project_root()
    files = module_files(root, package)
    known = set(files)
    graph = ImportGraph(edges={m: set() for m in files})
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        own_packages = {*_ancestors(module), module}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            for target in resolve(node, module, is_package, known):
                # The target, plus the packages Python imports on the way to it, less
                # those already being imported because they contain this module.
                implied = [p for p in _ancestors(target) if p not in own_packages]
                for dst in [target, *implied]:
                    if dst == module or dst not in known:
                        continue
                    graph.edges[module].add(dst)
                    spot = f"{path.relative_to(root)}:{node.lineno}"
                    graph.where.setdefault((module, dst), []).append(spot)
    return graph


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components in a deterministic order."""
    nodes = sorted({*graph, *(t for ts in graph.values() for t in ts)})
    succ = {n: sorted(set(graph.get(n, ()))) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(succ[node])):
                nxt = succ[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(components)


def _shortest_cycle_through(graph: Graph, start: str, allowed: set[str]) -> list[str] | None:
    previous: dict[str, str] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for nxt in sorted(set(graph.get(node, ()))):
            if nxt not in allowed:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if nxt not in seen:
                seen.add(nxt)
                previous[nxt] = node
                queue.append(nxt)
    return None


def find_cycles(graph: Graph) -> list[list[str]]:
    """Import cycles as paths that end where they start (['a', 'b', 'a']).

    Empty when the graph is acyclic. Otherwise every module on a cycle is on at least
    one of the cycles returned: for each, the shortest cycle through it (deduplicated,
    each written from its smallest module).
    """
    cycles: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for component in strongly_connected(graph):
        members = set(component)
        if len(component) == 1 and component[0] not in set(graph.get(component[0], ())):
            continue
        for start in component:
            cycle = _shortest_cycle_through(graph, start, members)
            assert cycle is not None, f"{start} is in a cycle component but on no cycle"
            ring = cycle[:-1]
            k = ring.index(min(ring))
            canonical = tuple(ring[k:] + ring[:k])
            if canonical not in seen:
                seen.add(canonical)
                cycles.append([*canonical, canonical[0]])
    return sorted(cycles, key=lambda c: (len(c), c))


def describe(cycles: list[list[str]], graph: ImportGraph | None = None) -> str:
    lines = []
    for cycle in cycles:
        lines.append(" -> ".join(cycle))
        if graph is not None:
            for src, dst in zip(cycle, cycle[1:], strict=False):
                spots = ", ".join(sorted(set(graph.where.get((src, dst), ["?"]))))
                lines.append(f"    {src} -> {dst}: {spots}")
    return "\n".join(lines)


# -- the cycle finder itself, on graphs small enough to check by eye ---------------------


def test_no_cycles_in_an_acyclic_graph() -> None:
    assert find_cycles({}) == []
    assert find_cycles({"a": []}) == []
    chain = {"a": ["b"], "b": ["c"], "c": []}
    assert find_cycles(chain) == []
    # A diamond shares a module between two paths; that is not a cycle.
    diamond = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}
    assert find_cycles(diamond) == []
    assert strongly_connected(diamond) == [["a"], ["b"], ["c"], ["d"]]


def test_finds_a_two_module_cycle() -> None:
    graph = {"x": ["a"], "a": ["b"], "b": ["a", "c"], "c": []}
    assert find_cycles(graph) == [["a", "b", "a"]]
    assert describe(find_cycles(graph)) == "a -> b -> a"


def test_finds_a_self_import_and_a_longer_cycle_and_keeps_them_apart() -> None:
    graph = {"s": ["s"], "a": ["b"], "b": ["c"], "c": ["a", "d"], "d": []}
    assert find_cycles(graph) == [["s", "s"], ["a", "b", "c", "a"]]


def test_every_module_on_a_cycle_is_reported() -> None:
    # Two cycles sharing `hub`: both show up, not just the first one found.
    graph = {"hub": ["p", "q"], "p": ["hub"], "q": ["r"], "r": ["hub"]}
    cycles = find_cycles(graph)
    assert ["hub", "p", "hub"] in cycles
    assert ["hub", "q", "r", "hub"] in cycles
    assert {m for c in cycles for m in c} == {"hub", "p", "q", "r"}


def test_deep_chains_do_not_hit_the_recursion_limit() -> None:
    n = 3000  # well past the default recursion limit of 1000
    chain = {str(i): [str(i + 1)] for i in range(n)}
    assert find_cycles(chain) == []
    chain[str(n)] = ["0"]
    assert len(strongly_connected(chain)) == 1
    # One shortest-path search per module on the cycle: keep this ring small.
    ring = {str(i): [str((i + 1) % 300)] for i in range(300)}
    (cycle,) = find_cycles(ring)
    assert len(cycle) == 301 and cycle[0] == cycle[-1] == "0"


# -- the walker, on a package written for the test ---------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_walker_resolves_every_form_of_import(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\nfrom pkg.sub import c\nfrom pkg.sub.d import thing\n",
            "pkg/b.py": "from . import e\nfrom .sub import d as dd\n",
            "pkg/e.py": "def f():\n    from .sub.c import x\n",
            "pkg/f.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
            "pkg/sub/__init__.py": "from .. import e\n",
            "pkg/sub/c.py": "from pkg.sub import Name\nimport os\n",
            "pkg/sub/d.py": "from ..e import g\n",
        },
    )
    graph = build_graph(tmp_path, "pkg")
    assert graph.modules == {
        "pkg", "pkg.a", "pkg.b", "pkg.e", "pkg.f", "pkg.sub", "pkg.sub.c", "pkg.sub.d"
    }  # fmt: skip
    assert graph.edges == {
        "pkg": set(),
        # pkg.sub's __init__ runs on the way to pkg.sub.c and pkg.sub.d.
        "pkg.a": {"pkg.b", "pkg.sub", "pkg.sub.c", "pkg.sub.d"},
        "pkg.b": {"pkg.e", "pkg.sub", "pkg.sub.d"},
        # An import inside a function counts.
        "pkg.e": {"pkg.sub", "pkg.sub.c"},
        # A TYPE_CHECKING import never runs.
        "pkg.f": set(),
        "pkg.sub": {"pkg.e"},
        # Reading a name from its own package's __init__ is an edge to it.
        "pkg.sub.c": {"pkg.sub"},
        "pkg.sub.d": {"pkg.e"},
    }
    assert graph.where[("pkg.e", "pkg.sub.c")] == [f"{Path('pkg/e.py')}:2"]
    assert describe(find_cycles(graph.edges)) == "\n".join(
        [
            "pkg.e -> pkg.sub -> pkg.e",
            "pkg.e -> pkg.sub.c -> pkg.sub -> pkg.e",
        ]
    )


def test_a_package_reexporting_its_submodules_is_not_a_cycle(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/models/__init__.py": "from pkg.models.a import A\nfrom .b import B\n",
            "pkg/models/a.py": "X = 1\n",
            "pkg/models/b.py": "from pkg.models.a import X\n",
            "pkg/user.py": "from pkg.models import A\n",
        },
    )
    graph = build_graph(tmp_path, "pkg")
    assert graph.edges["pkg.models.b"] == {"pkg.models.a"}
    assert graph.edges["pkg.user"] == {"pkg.models"}
    assert find_cycles(graph.edges) == []


# -- the real package --------------------------------------------------------------------


def test_the_walker_sees_the_whole_package() -> None:
    graph = build_graph()
    # A walker that finds nothing would pass the cycle test below vacuously.
    assert len(graph.modules) > 50, sorted(graph.modules)
    assert graph.edge_count() > 150, graph.edge_count()
    assert {"api", "api.main", "api.services", "api.domain", "api.models"} <= graph.modules
    # Spot checks of edges that must exist as long as these modules do.
    assert "api.models" in graph.edges["api.services.accounts"]
    assert {"api.routes.auth", "api.routes.pain"} <= graph.edges["api.main"]
    # Imports inside functions count: api.cli imports its commands' modules lazily.
    assert "api.migrations" in graph.edges["api.cli"]


def test_no_import_cycles_in_api() -> None:
    graph = build_graph()
    cycles = find_cycles(graph.edges)
    assert not cycles, f"{len(cycles)} import cycle(s) in {PACKAGE}:\n" + describe(cycles, graph)
