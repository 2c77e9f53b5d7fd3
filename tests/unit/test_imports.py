"""The import graph of fleetctl has no cycle, and imports sit at module top except the documented lazy ones."""

import ast
from pathlib import Path

from fleetctl.cli import LAZY_IMPORTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fleetctl"


def module_name(path: Path) -> str:
    """The dotted name of a source file under the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, ast.Module]:
    """Every module of the package, parsed."""
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def targets(node: ast.Import | ast.ImportFrom, here: str, modules: set[str]) -> list[str]:
    """The fleetctl modules an import statement loads (a `from package import module` names the module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    base = node.module or ""
    if node.level:
        package = here.split(".")[: -node.level] if here + ".__init__" not in modules else here.split(".")
        base = ".".join(package + ([base] if base else []))
    found = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in modules]
    if base in modules and len(found) < len(node.names):
        found.append(base)
    return found


def is_type_checking(node: ast.If) -> bool:
    """Whether an `if` guards imports needed only by the type checker."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports run when the module loads (inside `if`/`try` too, but not under `if TYPE_CHECKING`)."""
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not is_type_checking(node):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        elif isinstance(node, (ast.With, ast.ClassDef)):
            todo += node.body
    return found


def function_imports(tree: ast.Module) -> list[tuple[str, int, str]]:
    """(function, line, imported name) for every import inside a function body."""
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(fn):
            if isinstance(node, ast.Import):
                found += [(fn.name, node.lineno, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                found += [(fn.name, node.lineno, node.module or ".") for _ in node.names[:1]]
    return sorted(set(found), key=lambda f: f[1])


def graph() -> dict[str, set[str]]:
    """Module -> the fleetctl modules it imports when it loads."""
    trees = sources()
    modules = set(trees)
    return {name: {t for node in module_level_imports(tree) for t in targets(node, name, modules)} - {name}
            for name, tree in trees.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_has_no_cycle():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_inside_functions_are_only_the_documented_lazy_ones():
    found = {f"{name}:{fn}:{target}" for name, tree in sources().items() for fn, _, target in function_imports(tree)}
    assert sorted(found - set(LAZY_IMPORTS)) == []


def test_the_lazy_import_list_names_only_imports_that_exist():
    found = {f"{name}:{fn}:{target}" for name, tree in sources().items() for fn, _, target in function_imports(tree)}
    assert sorted(set(LAZY_IMPORTS) - found) == []
