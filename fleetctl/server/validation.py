"""Request bodies and query strings checked against their pydantic models; a failure is one 422 line."""

from __future__ import annotations

import json
from typing import get_args, get_origin

from pydantic import BaseModel, ValidationError

from fleetctl.errors import BadRequest, Invalid
from fleetctl.schemas import common
from fleetctl.services.wake import CURSOR

_TYPES = {"int": "integer", "string": "string", "bool": "boolean", "float": "number", "list": "array",
          "dict": "object", "finite": "number"}
PATTERNS = {
    common.NO_NUL: "must be UTF-8 text without NUL bytes",
    common.ADDRESS: "is not an address: a member is addressed as 'name' or 'fleet/name' (lowercase slugs)",
    common.RECIPIENT: "must be addresses: a member is addressed as 'name' or 'fleet/name' (lowercase slugs)",
    common.MEMBER_SLUG: "must be a lowercase slug [a-z0-9][a-z0-9-]{0,62}",
    common.FLEET_SLUG: "must be a lowercase slug [a-z0-9][a-z0-9-]{0,39}",
}
# Patterns whose refusal is a whole sentence (today's wording).
SENTENCES = {CURSOR.pattern: "malformed wake cursor: pass the `cursor` string a wake returned, exactly as returned"}


# pydantic's error type -> today's wording, filled from the error's context.
WORDS = {
    "missing": "is required",
    "string_unicode": PATTERNS[common.NO_NUL],
    "less_than_equal": "must be at most {le}",
    "less_than": "must be at most {lt}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be at least {gt}",
    "string_too_long": "is longer than {max_length} characters",
    "string_too_short": "must not be empty",
    "too_long": "has more than {max_length} items",
    "too_short": "needs at least {min_length} item(s)",
    "finite_number": "must be a finite number",
    "int_from_float": "must be of type integer",
}


def _problem(err: dict) -> str:
    """What is wrong with one value, in today's words."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind != "missing" and err.get("input", 0) is None:
        return "must not be null"
    if kind in WORDS:
        return WORDS[kind].format(**ctx)
    if kind == "string_pattern_mismatch":
        return PATTERNS.get(ctx.get("pattern"), f"must match {ctx.get('pattern')}")
    if kind == "literal_error":
        return "must be one of: " + ctx.get("expected", "").replace("'", "").replace(" or ", ", ")
    prefix = kind.split("_")[0]
    if prefix in _TYPES:
        return f"must be of type {_TYPES[prefix]}"
    return err["msg"]


def one_line(exc: ValidationError, where: str = "field") -> str:
    """The first error of `exc` as one line naming the field (all unknown fields at once)."""
    errors = exc.errors(include_url=False)
    unknown = [str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        return f"unknown field(s): {', '.join(sorted(unknown))}"
    err = errors[0]
    loc = [p for p in err["loc"] if not isinstance(p, int)]
    name = str(loc[0]) if loc else "body"
    if err["type"] == "string_pattern_mismatch" and err["ctx"]["pattern"] == common.DOMAIN_TAG:
        return f"invalid domain tag {err['input']!r}: use a lowercase slug such as 'infra'"
    if err["type"] == "string_pattern_mismatch" and err["ctx"]["pattern"] in SENTENCES:
        return SENTENCES[err["ctx"]["pattern"]]
    if err["type"] == "string_pattern_mismatch" and err["ctx"]["pattern"] in (common.NON_BLANK, common.ONE_LINE):
        several = isinstance(err["input"], str) and ("\n" in err["input"] or "\r" in err["input"])
        return f"{name} must be one line" if several else f"{name} must not be empty"
    subject = f"items of {name!r}" if any(isinstance(p, int) for p in err["loc"]) else f"{where} {name!r}"
    return f"{subject} {_problem(err)}"


def check(model: type[BaseModel], data: object, where: str = "field") -> dict:
    """The fields given in `data`, validated by `model`, as plain keyword arguments (aliases kept)."""
    if not isinstance(data, dict):
        raise Invalid("request body must be a JSON object")
    try:
        valid = model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(one_line(exc, where)) from None
    names = _names(model)
    return {names[n]: getattr(valid, n) for n in valid.model_fields_set}


_NAMES: dict[type[BaseModel], dict[str, str]] = {}


def _names(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the name the view gets (the alias where the JSON name is a Python keyword, as `from`)."""
    names = _NAMES.get(model)
    if names is None:
        names = _NAMES[model] = {n: f.alias or n for n, f in model.model_fields.items()}
    return names


def _is_list(annotation) -> bool:
    while get_origin(annotation) is not None and get_origin(annotation) is not list:
        args = [a for a in get_args(annotation) if a is not type(None)]
        annotation = args[0] if args else None
    return get_origin(annotation) is list


def query_fields(model: type[BaseModel]) -> list[tuple[str, bool]]:
    """(name in the query string, takes a list) of each field of a query model."""
    return [(f.alias or n, _is_list(f.annotation)) for n, f in model.model_fields.items()]


def parse_query(args, model: type[BaseModel], fields: list[tuple[str, bool]]) -> dict:
    """Validate query-string arguments against `model` (unknown parameters are ignored)."""
    data: dict = {}
    for name, many in fields:
        values = args.getlist(name)
        if many:
            if values:
                data[name] = [v for v in values if v]
        elif values:
            data[name] = values[-1]
    return check(model, data, "query parameter")


def json_body(raw: bytes) -> object:
    """The request's decoded JSON body; an empty body is `{}`, a malformed one a 400."""
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"request body is not valid JSON: {str(exc)[:120]}") from exc
