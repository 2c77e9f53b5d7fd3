"""What the routes and console pages call in the domain services returns JSON-ready data (services/__init__.py)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fleetctl"
PLUMBING = {"tokens", "idempotency", "validate"}  # authentication and request plumbing, not answers
WIRING = {"app.py", "runtime.py"}  # build the app and own its state; they answer no request
JSON_READY = {"dict", "list[dict]", "list[str]", "tuple[dict, bool]", "None"}


def returns() -> dict[tuple[str, str], str | None]:
    """(service module, function) -> its return annotation."""
    found = {}
    for path in (PACKAGE / "services").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                found[path.stem, node.name] = ast.unparse(node.returns) if node.returns else None
    return found


def called() -> set[tuple[str, str, str]]:
    """(caller file, service module, function) for each call of a service by a route or a console page."""
    found = set()
    for path in [*(PACKAGE / "server").glob("*.py"), *(PACKAGE / "console").glob("*.py")]:
        if path.name in WIRING:
            continue
        tree = ast.parse(path.read_text())
        names = {a.asname or a.name: a.name for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module == "fleetctl.services" for a in node.names}
        found |= {(path.name, names[node.func.value.id], node.func.attr) for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and isinstance(node.func.value, ast.Name) and node.func.value.id in names}
    return found


def test_routes_and_pages_get_json_ready_answers_from_services():
    annotations = returns()
    wrong = sorted(f"{caller}: {module}.{name} -> {annotations.get((module, name))}"
                   for caller, module, name in called()
                   if module not in PLUMBING and annotations.get((module, name)) not in JSON_READY)
    assert wrong == []


def test_the_check_sees_the_calls():
    assert ("tasks.py", "task_actions", "act") in called()
    assert returns()["knowledge", "get"] == "Knowledge"  # a lookup for other services keeps its row
