"""The layout rules of issue 14, checked on the source: one import root, no import circle (imports
inside functions count, `if TYPE_CHECKING:` blocks do not), SQL only in simgov/storage/, no module
over 1,000 lines."""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "simgov"
MAX_MODULE_LINES = 1000
SQL_CALL = re.compile(r"\.(execute|executemany|executescript)\(")


def _module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every module under `package` (packages as their __init__)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(node: ast.AST):
    """Every Import/ImportFrom node under `node`, at any depth, skipping `if TYPE_CHECKING:` bodies."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports_of_statement(other)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        yield from _imports(child)


def _imports_of_statement(statement: ast.stmt):
    if isinstance(statement, (ast.Import, ast.ImportFrom)):
        yield statement
    yield from _imports(statement)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative levels resolved against `module`)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _owning_module(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known simgov module that `name` is or lies inside (an attribute import counts
    as an import of its module)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports, module level and function level alike."""
    modules = _module_files(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _imports(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = _resolve(name, is_package, node)
                # `from pkg import sub` imports the submodule pkg.sub when there is one
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            for target in targets:
                owner = _owning_module(target, modules)
                if owner is not None and owner != name:
                    graph[name].add(owner)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    return path[path.index(child):] + [child]
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    stack.append((child, iter(sorted(graph[child]))))
                    break
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_cycle_finder_sees_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_graph_counts_function_level_and_relative_imports_not_type_checking(tmp_path):
    package = tmp_path / "toy"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from .sub import b\n")
    (package / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from toy import c\n"
        "from .. import a\n")
    (package / "c.py").write_text("import toy.sub.b as b\n")
    graph = import_graph(package)
    assert graph["toy.a"] == {"toy.sub", "toy.sub.b"}
    assert graph["toy.sub.b"] == {"toy", "toy.a"}
    assert graph["toy.c"] == {"toy.sub.b"}
    assert find_cycle(graph) == ["toy.a", "toy.sub.b", "toy.a"]


def test_sql_only_in_storage():
    storage = PACKAGE / "storage"
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if storage in path.parents:
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlite3" for a in node.names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports sqlite3")
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlite3":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports from sqlite3")
        for number, line in enumerate(source.splitlines(), 1):
            if SQL_CALL.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number} {line.strip()}")
    assert not offenders, "SQL outside simgov/storage/:\n" + "\n".join(offenders)


def test_no_module_over_limit():
    long = [f"{path.relative_to(ROOT)}: {n} lines" for path in sorted(PACKAGE.rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long)


def test_one_import_root():
    """Only simgov is installed, and the library imports nothing from the repository's other
    top-level folders (benchmarks, evaluation, scripts, tests run from a checkout only)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["simgov*"]
    local = {p.name for p in ROOT.iterdir() if p.is_dir() and p.name != "simgov"}
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if node.level == 0 else []
            upward += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                       if n.split(".")[0] in local]
    assert not upward, "the library imports from outside simgov/:\n" + "\n".join(upward)
