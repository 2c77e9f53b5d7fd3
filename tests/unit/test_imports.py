"""The import graph of fleetctl has no cycle, and imports sit at module top except the documented lazy ones."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fleetctl"


# Imports inside functions allowed (`importlib.import_module` and `__import__` count), as
# "module:imported module" (`*` for a formatted part) -> why it is lazy. Nothing else may import inside a
# function; a lazy import is for start-up time, never to hide an import cycle.
CLI = "the CLI loads only what the command it runs needs, so `fleetctl --version` and client commands start fast"
SERVER = "a local command (serve, fleet, db) loads the server stack (flask, peewee) only when it runs"
# Cycles that only lazy imports close (so Python runs them, but the modules still depend on each other).
HIDDEN_CYCLES: list[list[str]] = []
LAZY_IMPORTS = {
    "fleetctl.cli.agents:fleetctl.config": CLI,
    "fleetctl.cli.app:fleetctl.client": CLI,
    "fleetctl.cli.app:fleetctl.config": CLI,
    "fleetctl.cli.app:traceback": CLI,
    "fleetctl.cli.audit:fleetctl.cli.app": CLI,
    "fleetctl.cli.daemon:fleetctl.client": CLI,
    "fleetctl.cli.daemon:fleetctl.config": CLI,
    "fleetctl.cli.daemon:fleetctl.daemon": CLI,
    "fleetctl.cli.docgen:fleetctl": CLI,
    "fleetctl.cli.docgen:fleetctl.cli.main": CLI,
    "fleetctl.cli.docgen:typer": CLI,
    "fleetctl.cli.local:fleetctl.config": CLI,
    "fleetctl.cli.local:fleetctl.errors": CLI,
    "fleetctl.cli.local:logging": CLI,
    "fleetctl.cli.local:signal": CLI,
    "fleetctl.cli.local:fleetctl.cli.app": CLI,
    "fleetctl.cli.local:fleetctl.db": SERVER,
    "fleetctl.cli.local:fleetctl.models.core": SERVER,
    "fleetctl.cli.local:fleetctl.services.prune": SERVER,
    "fleetctl.cli.local:fleetctl.services.members": SERVER,
    "fleetctl.cli.local:fleetctl.services.quota": SERVER,
    "fleetctl.cli.local:fleetctl.server.app": SERVER,
    "fleetctl.cli.local:fleetctl.server.connections": SERVER,
    "fleetctl.cli.local:fleetctl.server.waiting": SERVER,
    "fleetctl.cli.local:fleetctl.services.wakeup": SERVER,
    "fleetctl.cli.local:fleetctl.migrations": SERVER,
    "fleetctl.cli.mcp:fleetctl.client": CLI,
    "fleetctl.cli.mcp:fleetctl.mcp.stdio": CLI,
    "fleetctl.cli.output:rich": CLI,
    "fleetctl.cli.output:rich.console": CLI,
    "fleetctl.cli.output:rich.markdown": CLI,
    "fleetctl.cli.output:rich.markup": CLI,
    "fleetctl.cli.output:rich.table": CLI,
    "fleetctl.cli.profiles:fleetctl.config": CLI,
    "fleetctl.cli.quickstart:fleetctl.quickstart": CLI,
    "fleetctl.cli.session:fleetctl.client": CLI,
    "fleetctl.cli.session:fleetctl.config": CLI,
    "fleetctl.cli.session:fleetctl.errors": CLI,
    "fleetctl.cli.session:fleetctl.cli.app": CLI,
    "fleetctl.cli.wake:fleetctl.client": CLI,
    "fleetctl.config:platformdirs": "platformdirs costs start-up time and is needed only when no path is configured",
    "fleetctl.server.connections:waitress": "the CLI reads this module's limits for `serve --help`; waitress "
                                            "loads only to serve",
    "fleetctl.quickstart:fleetctl.db": SERVER,
    "fleetctl.quickstart:fleetctl.models.core": SERVER,
    "fleetctl.quickstart:fleetctl.services.tokens": SERVER,
    "fleetctl.cli.fastpath:fleetctl.client": CLI,
    "fleetctl.cli.fastpath:fleetctl.config": CLI,
    "fleetctl.cli.fastpath:fleetctl.mcp.stdio": CLI,
    "fleetctl.cli.main:fleetctl.cli.root": CLI,
    "fleetctl.cli.pipes:rich.console": CLI,
    "fleetctl.cli.root:fleetctl.cli.*": CLI,
    "fleetctl.quickstart_runner:rich.markup": CLI,
    "fleetctl.server.connections:fleetctl.server.waitress_errors": "as waitress itself (above): loads only to serve",
}


def module_name(path: Path) -> str:
    """The dotted name of a source file under the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, ast.Module]:
    """Every module of the package, parsed."""
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def targets(node: ast.Import | ast.ImportFrom, modules: set[str]) -> list[str]:
    """The fleetctl modules an import statement loads (a `from package import module` names the module)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    base = node.module or ""
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


def dynamic_target(node: ast.AST) -> str | None:
    """The module an `importlib.import_module(...)` or `__import__(...)` call loads (`*` for a formatted part)."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__"):
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant):
        return str(arg.value)
    if isinstance(arg, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "*" for v in arg.values)
    return "*"


def function_imports(name: str, tree: ast.Module, modules: set[str]) -> set[str]:
    """`module:imported module` for every import inside a function body (or lambda) of one module, the
    calls of `importlib.import_module` and `__import__` included."""
    found = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    found |= {f"{name}:{a.name}" for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    found |= {f"{name}:{t}" for t in targets(node, modules) or [node.module]}
                elif (target := dynamic_target(node)) is not None:
                    found.add(f"{name}:{target}")
    return found


def graph(lazy: bool = False) -> dict[str, set[str]]:
    """Module -> the fleetctl modules it imports when it loads (with `lazy`, also inside its functions)."""
    trees = sources()
    modules = set(trees)
    return {name: {t for node in (_all_imports(tree) if lazy else module_level_imports(tree))
                   for t in targets(node, modules)} - {name}
            for name, tree in trees.items()}


def _all_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


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


def test_no_lazy_import_hides_a_cycle():
    assert cycles(graph(lazy=True)) == HIDDEN_CYCLES


def test_imports_are_absolute():
    relative = [name for name, tree in sources().items()
                for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    assert relative == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def lazy_imports() -> set[str]:
    """`module:imported module` for every import inside a function of the package."""
    trees = sources()
    return {key for name, tree in trees.items() for key in function_imports(name, tree, set(trees))}


def test_imports_inside_functions_are_only_the_documented_lazy_ones():
    assert sorted(lazy_imports() - set(LAZY_IMPORTS)) == []


def test_the_lazy_import_list_names_only_imports_that_exist():
    assert sorted(set(LAZY_IMPORTS) - lazy_imports()) == []

