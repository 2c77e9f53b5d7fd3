"""The route registry: one decorator validates input, names the audit action and feeds OpenAPI."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from flask import Blueprint, g, jsonify, request

from fleetctl.errors import BadRequest, NotFound
from fleetctl.server import idempotency
from fleetctl.server.fields import F, parse_body, parse_query


@dataclass
class Route:
    method: str
    rule: str
    action: str | None
    summary: str
    body: dict | None
    query: dict | None
    auth: bool
    status: int


ROUTES: list[Route] = []
INT64_MAX = 2**63 - 1  # path ids past this cannot exist (and would overflow the database driver)
IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Makes the write safe to retry: a repeat with the same key and body within 24 hours gets "
                   "the first answer back (header Idempotent-Replayed: true) and changes nothing; the same "
                   "key with another body is 422."}


def route(bp: Blueprint, rule: str, method: str = "GET", *, summary: str, action: str | None = None,
          body: dict[str, F] | None = None, query: dict[str, F] | None = None, auth: bool = True,
          status: int = 200):
    """Register a view on `bp`. The view gets path args plus `body=`/`query=` when specs are given,
    returns a dict (sent as JSON with `status`) or a (dict, status) pair."""

    def decorate(view):
        prefix = bp.url_prefix or ""
        ROUTES.append(Route(method, prefix + rule, action, summary, body, query, auth, status))

        @functools.wraps(view)
        def wrapper(**kwargs):
            g.action = action
            g.public = not auth
            if any(v > INT64_MAX if isinstance(v, int) else "\x00" in v for v in kwargs.values()):
                raise NotFound("no such item (id out of range or name with a NUL byte)")
            key = idempotency.requested_key() if auth else None
            if key is not None:
                return idempotency.handle(key, action, lambda: run(kwargs))
            return run(kwargs)

        def run(kwargs):
            if body is not None:
                kwargs["body"] = parse_body(json_body(), body)
            if query is not None:
                kwargs["query"] = parse_query(request.args, query)
            result = view(**kwargs)
            code = status
            if isinstance(result, tuple):
                result, code = result
            if action and getattr(g, "resource", None) is None and isinstance(result, dict):
                ident = result.get("id", kwargs.get("id") or kwargs.get("name"))
                if ident is not None:
                    g.resource = f"{action.split('.')[0]}:{ident}"
            response = jsonify(result)
            response.status_code = code
            return response

        wrapper.fleet_public = not auth
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        return wrapper

    return decorate


def json_body() -> object:
    """The request's JSON body; a missing or malformed one is a 400."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"request body is not valid JSON: {str(exc)[:120]}") from exc


def _path_params(rule: str) -> tuple[str, list[dict]]:
    params = []

    def sub(match):
        conv, name = match.group(1), match.group(2)
        schema = {"type": "integer"} if conv == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    path = re.sub(r"<(?:(\w+):)?(\w+)>", sub, rule)
    return path, params


def _object_schema(spec: dict[str, F]) -> dict:
    return {"type": "object", "additionalProperties": False,
            "properties": {name: f.schema() for name, f in spec.items()},
            "required": [name for name, f in spec.items() if f.required]}


def openapi(version: str) -> dict:
    """The OpenAPI 3.1 description of every registered route."""
    problem = {"description": "error", "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}
    paths: dict = {}
    for r in ROUTES:
        path, params = _path_params(r.rule)
        op: dict = {"summary": r.summary, "operationId": f"{r.method.lower()}{path}".replace("/", "_"),
                    "responses": {str(r.status): {"description": "success", "content": {
                        "application/json": {"schema": {"type": "object"}}}}, "default": problem}}
        if r.query:
            params = params + [{"name": n, "in": "query", "required": f.required, "schema": f.schema()}
                               for n, f in r.query.items()]
        if r.auth and r.method in idempotency.WRITES:
            params = params + [IDEMPOTENCY_PARAM]
        if params:
            op["parameters"] = params
        if r.body is not None:
            op["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": _object_schema(r.body)}}}
        if r.auth:
            op["security"] = [{"bearer": []}]
        paths.setdefault(path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "fleetctl", "version": version},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": {"type": "object", "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}}, "required": ["type", "title", "status", "detail"]}},
        },
    }
