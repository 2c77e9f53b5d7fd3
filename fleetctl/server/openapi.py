"""The OpenAPI 3.1 description of every registered route, generated from the pydantic models."""

from __future__ import annotations

import re
from http import HTTPStatus

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from fleetctl.server import idempotency
from fleetctl.server.api import ROUTES, Route

REF = "#/components/schemas/{model}"
_KEY = r"[^\s\x00-\x1f\x7f-\xa0\xad]"  # printable, and not blank at either end (HTTP strips it)
_KEY_INNER = r"[^\x00-\x1f\x7f-\xa0\xad]"
IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "pattern": f"^{_KEY}({_KEY_INNER}{{0,253}}{_KEY})?$"},
    "description": "Makes the write safe to retry: a repeat with the same key and body within 24 hours gets "
                   "the first answer back (header Idempotent-Replayed: true) and changes nothing; the same "
                   "key with another body is 422."}
PROBLEM = {"type": "object", "description": "RFC 9457 problem details", "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}}, "required": ["type", "title", "status", "detail"]}


def _clean(schema, in_properties: bool = False):
    """Drop pydantic's titles and its `default: null` of optional fields that are not nullable."""
    if isinstance(schema, list):
        return [_clean(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if in_properties:
        return {name: _clean(s) for name, s in schema.items()}
    out = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str) or key == "default" and value is None:
            continue
        out[key] = _clean(value, in_properties=key in ("properties", "$defs"))
    return out


def components(models: list[tuple[type[BaseModel], str]]) -> tuple[dict, dict]:
    """({(model, mode): schema or $ref}, {name: schema}) for request ('validation') and response models."""
    refs, defs = models_json_schema(models, ref_template=REF)
    return refs, {name: _clean(s) for name, s in defs.get("$defs", {}).items()}


def _path_params(r: Route) -> tuple[str, list[dict]]:
    params = []

    def sub(match):
        conv, name = match.group(1), match.group(2)
        schema = r.path.get(name) or ({"type": "integer", "minimum": 0} if conv == "int" else {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", sub, r.rule), params


def _query_params(model: type[BaseModel]) -> list[dict]:
    schema = _clean(model.model_json_schema(ref_template=REF))
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop.pop("description")
        out.append(param)
    return out


def _errors(r: Route, has_path: bool) -> set[int]:
    codes = set(r.errors)
    if r.auth:
        codes |= {401, 429, 503}
    if r.body is not None:
        codes |= {400, 413, 422}
    if r.query is not None:
        codes.add(422)
    if _idempotent(r):
        codes |= {409, 422}
    if has_path:
        codes.add(404)
    return codes


def _idempotent(r: Route) -> bool:
    """Whether the route takes an Idempotency-Key (the writes registered with `route`, which name an action)."""
    return r.auth and r.action is not None and r.method in idempotency.WRITES


def _response(description: str, media: str, schema: dict) -> dict:
    return {"description": description, "content": {media: {"schema": schema}}}


def document(version: str) -> dict:
    """The OpenAPI 3.1 description of every registered route."""
    wanted = {(m, "validation") for r in ROUTES if (m := r.body) is not None}
    wanted |= {(m, "serialization") for r in ROUTES if (m := r.response) is not None}
    refs, schemas = components(sorted(wanted, key=lambda p: (p[0].__name__, p[1])))
    paths: dict = {}
    body_schemas: dict = {}  # request bodies are written inline (flat objects)
    for r in ROUTES:
        path, params = _path_params(r)
        success = refs[(r.response, "serialization")] if r.response else {"type": "object"}
        responses = {str(code): _response(HTTPStatus(code).phrase, "application/json", success)
                     for code in r.statuses or (r.status,)}
        for code in sorted(_errors(r, bool(params))):
            responses[str(code)] = _response(HTTPStatus(code).phrase, "application/problem+json",
                                             {"$ref": "#/components/schemas/Problem"})
        op: dict = {"summary": r.summary, "operationId": f"{r.method.lower()}{path}".replace("/", "_"),
                    "responses": responses}
        if r.query is not None:
            params = params + _query_params(r.query)
        if _idempotent(r):
            params = params + [IDEMPOTENCY_PARAM]
        if params:
            op["parameters"] = params
        if r.body is not None:
            ref = refs[(r.body, "validation")]["$ref"].rsplit("/", 1)[1]
            op["requestBody"] = {"required": r.body_required, "content": {"application/json": {
                "schema": schemas.pop(ref, None) or body_schemas[ref]}}}
            body_schemas[ref] = op["requestBody"]["content"]["application/json"]["schema"]
        op["security"] = [{"bearer": []}] if r.auth else []
        paths.setdefault(path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "fleetctl", "version": version},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": PROBLEM, **schemas},
        },
    }
