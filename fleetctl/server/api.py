"""The route registry: one decorator validates input with the pydantic models, names the audit action and
feeds OpenAPI."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel

from fleetctl.errors import NotFound
from fleetctl.server import idempotency
from fleetctl.server.validation import check, json_body, parse_query, query_fields


@dataclass
class Route:
    method: str
    rule: str
    action: str | None
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    auth: bool
    status: int
    response: type[BaseModel] | None = None
    statuses: tuple[int, ...] = ()  # the success statuses when there are several (else `status`)
    errors: tuple[int, ...] = ()
    path: dict = field(default_factory=dict)
    body_required: bool = False


ROUTES: list[Route] = []
INT64_MAX = 2**63 - 1  # path ids past this cannot exist (and would overflow the database driver)


def route(bp: Blueprint, rule: str, method: str = "GET", *, summary: str, action: str | None = None,
          body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
          response: type[BaseModel] | None = None, auth: bool = True, status: int = 200,
          statuses: tuple[int, ...] = (), errors: tuple[int, ...] = (), path: dict | None = None):
    """Register a view on `bp`. The view gets path args plus `body=`/`query=` (the fields given, as a dict)
    when models are given, and returns a dict (sent as JSON with `status`) or a (dict, status) pair.
    `response` describes the success body, `errors` the refusals the view itself may answer (403, 404, 409)
    and `path` the schemas of path parameters that are not plain strings or ints."""
    body_required = body is not None and any(f.is_required() for f in body.model_fields.values())
    fields = query_fields(query) if query is not None else None

    def decorate(view):
        prefix = bp.url_prefix or ""
        ROUTES.append(Route(method, prefix + rule, action, summary, body, query, auth, status, response,
                            statuses, errors, path or {}, body_required))

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
                kwargs["body"] = check(body, json_body(request.get_data(cache=True)))
            if query is not None:
                kwargs["query"] = parse_query(request.args, query, fields)
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
