"""Shared CLI options and input readers (`--body`, `--body-file FILE`, `-` for stdin)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from fleetctl.errors import Invalid
from fleetctl.schemas.limits import MAX_BODY_BYTES

BodyOpt = Annotated[str | None, typer.Option("--body", help="Body text (markdown); '-' reads stdin.")]
BodyFileOpt = Annotated[str | None, typer.Option("--body-file", help="Read the body from FILE ('-' for stdin).")]
DomainOpt = Annotated[list[str] | None, typer.Option("--domain", "-d", help="Domain tag (repeatable).")]
CrossFleetOpt = Annotated[bool, typer.Option("--cross-fleet", help="Visible to other fleets' cross-fleet members.")]
VisibilityOpt = Annotated[bool | None, typer.Option(
    "--cross-fleet/--fleet-only",
    help="Visible to other fleets' cross-fleet members, or to your fleet only "
         "(kept from the item it replaces if omitted; new items are fleet-only).")]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="At most N items (server caps at 200).")]
AfterOpt = Annotated[int | None, typer.Option("--after", help="Continue after this `next` cursor.")]


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{source} is not valid UTF-8 (byte {exc.start})") from exc


def read_body(body: str | None, body_file: str | None, required: bool = False, capped: bool = False) -> str | None:
    """The body from --body, --body-file or stdin; None when none was given. `capped` refuses a body
    over the server's 1 MiB before sending it."""
    text = _read(body, body_file, required)
    if capped and text is not None:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_BODY_BYTES:
            raise Invalid(f"body is {size} bytes; at most {MAX_BODY_BYTES} (1 MiB)")
    return text


def _read(body: str | None, body_file: str | None, required: bool) -> str | None:
    if body is not None and body_file is not None:
        raise Invalid("give --body or --body-file, not both")
    if body == "-" or body_file == "-":
        return _decode(sys.stdin.buffer.read(), "standard input")
    if body_file is not None:
        try:
            raw = Path(body_file).read_bytes()
        except OSError as exc:  # a usage error: the command line names a file that cannot be read
            raise Invalid(f"cannot read --body-file {body_file}: {exc.strerror}") from exc
        return _decode(raw, body_file)
    if body is None and required:
        raise Invalid("a body is required: --body TEXT, --body-file FILE, or --body-file - for stdin")
    return body


def visibility_field(cross_fleet: bool | None) -> dict:
    """The `visibility` body field for a --cross-fleet/--fleet-only flag; {} when neither was given."""
    if cross_fleet is None:
        return {}
    return {"visibility": "cross-fleet" if cross_fleet else "fleet"}


def item_name(what: str, name: str) -> str:
    """A NAME argument of a member or document: an empty one is a usage error naming `what` (it would
    address the whole collection)."""
    if not name:
        raise typer.BadParameter(f"a {what} name must not be empty")
    return name
