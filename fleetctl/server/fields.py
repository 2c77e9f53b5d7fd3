"""Declarative request fields: validate JSON bodies and query strings, and describe them in OpenAPI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from fleetctl.errors import Invalid

_MISSING = object()
_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list,
          "object": dict}


def _clean_text(value: str) -> bool:
    """No NUL byte and no lone surrogate (JSON "\\ud800" decodes to one; no database can store it)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class F:
    """One field: its JSON type, whether it is required, and its bounds."""

    type: str
    required: bool = False
    description: str = ""
    enum: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    items: str = "string"
    max_items: int = 100
    nullable: bool = False
    extra: dict = field(default_factory=dict)

    def schema(self) -> dict:
        out: dict[str, Any] = {"type": [self.type, "null"] if self.nullable else self.type}
        if self.description:
            out["description"] = self.description
        if self.enum and self.type != "array":
            out["enum"] = list(self.enum)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.type == "array":
            out["items"] = {"type": self.items, **({"enum": list(self.enum)} if self.enum else {})}
            out["maxItems"] = self.max_items
        out.update(self.extra)
        return out

    def check(self, name: str, value: Any) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise Invalid(f"field {name!r} must not be null")
        expected = _TYPES[self.type]
        if not isinstance(value, expected) or (self.type != "boolean" and isinstance(value, bool)):
            raise Invalid(f"field {name!r} must be of type {self.type}")
        if self.type == "integer" and not -(2**63) <= value < 2**63:
            raise Invalid(f"field {name!r} is out of the 64-bit integer range")
        if isinstance(value, float) and not math.isfinite(value):
            raise Invalid(f"field {name!r} must be a finite number")
        if self.type == "string" and not _clean_text(value):
            raise Invalid(f"field {name!r} must be UTF-8 text without NUL bytes")
        if self.max_length is not None and len(value) > self.max_length:
            raise Invalid(f"field {name!r} is longer than {self.max_length} characters")
        if self.enum and any(v not in self.enum for v in (value if self.type == "array" else [value])):
            raise Invalid(f"field {name!r} must be one of: {', '.join(map(str, self.enum))}")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"field {name!r} must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"field {name!r} must be at most {self.maximum}")
        if self.type == "array":
            if len(value) > self.max_items:
                raise Invalid(f"field {name!r} has more than {self.max_items} items")
            for item in value:
                if not isinstance(item, _TYPES[self.items]) or isinstance(item, bool):
                    raise Invalid(f"items of {name!r} must be of type {self.items}")
                if isinstance(item, int) and not -(2**63) <= item < 2**63:
                    raise Invalid(f"items of {name!r} are out of the 64-bit integer range")
                if isinstance(item, str) and (not _clean_text(item) or len(item) > 1000):
                    raise Invalid(f"items of {name!r} must be short UTF-8 strings without NUL bytes")
        return value

    def convert(self, name: str, raw: str) -> Any:
        """Turn a query-string value into this field's type."""
        try:
            if self.type == "integer":
                return self.check(name, int(raw))
            if self.type == "number":
                return self.check(name, float(raw))
            if self.type == "boolean":
                if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(raw)
                return raw.lower() in ("1", "true", "yes")
        except (ValueError, OverflowError) as exc:
            raise Invalid(f"query parameter {name!r} must be of type {self.type}") from exc
        return self.check(name, raw)


def parse_body(data: Any, spec: dict[str, F]) -> dict:
    """Validate a decoded JSON body against `spec`: unknown fields and wrong types are 422."""
    if not isinstance(data, dict):
        raise Invalid("request body must be a JSON object")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise Invalid(f"unknown field(s): {', '.join(unknown)}")
    out = {}
    for name, f in spec.items():
        if name in data:
            out[name] = f.check(name, data[name])
        elif f.required:
            raise Invalid(f"field {name!r} is required")
    return out


def parse_query(args, spec: dict[str, F]) -> dict:
    """Validate query-string arguments against `spec` (unknown parameters are ignored)."""
    out = {}
    for name, f in spec.items():
        values = args.getlist(name)
        if f.type == "array":
            if values:
                out[name] = f.check(name, [v for v in values if v])
            continue
        if values:
            out[name] = f.convert(name, values[-1])
        elif f.required:
            raise Invalid(f"query parameter {name!r} is required")
    return out


PAGE = {
    "limit": F("integer", minimum=1, maximum=1_000_000, description="page size (capped at 200)"),
    "after": F("integer", minimum=0, maximum=2**62, description="the `next` value of the previous page"),
}
