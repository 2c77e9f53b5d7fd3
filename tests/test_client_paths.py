"""The API's URL paths are written in two places only: the server (which defines the routes) and the client."""

from __future__ import annotations

import ast
from pathlib import Path

import fleetctl

PACKAGE = Path(fleetctl.__file__).parent
OWNERS = ("server", "client")  # fleetctl/server defines the routes; fleetctl/client calls them
PREFIXES = ("/v1", "/healthz", "/readyz")


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string nodes that are docstrings (prose about the API may name its paths)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def path_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal or f-string that starts with an API path."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # walked before its parts, which are not counted again
            skip.update(id(part) for part in node.values)
            head = node.values[0] if node.values else None
            text = head.value if isinstance(head, ast.Constant) and isinstance(head.value, str) else ""
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            text = node.value
        else:
            continue
        if text.startswith(PREFIXES):
            hits.append((node.lineno, text))
    return hits


def test_the_check_finds_paths_in_literals_and_f_strings_only():
    source = ('"""Docs may say GET /v1/wake."""\n'
              'A = "/v1/whoami"\n'
              'B = f"/v1/tasks/{id}/actions"\n'
              'C = "see /v1/orders in the demo text"\n'
              'D = client.get("/healthz")\n')
    assert [line for line, _ in path_literals(source)] == [2, 3, 5]


def test_no_api_path_outside_the_client_and_the_server():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in OWNERS:
            continue
        found += [f"fleetctl/{relative}:{line}: {text!r}" for line, text in path_literals(path.read_text())]
    assert not found, "call the typed client (fleetctl.client) instead:\n" + "\n".join(found)
