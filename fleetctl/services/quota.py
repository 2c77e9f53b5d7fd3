"""Per-fleet storage quotas: sizes as people write them, and the usage counter charged by writes.

Usage counts the bytes (UTF-8) of the content a fleet writes: titles, bodies, subjects, questions,
sources, notes, comments and document versions. Each write adds its bytes with one conditional
UPDATE inside its own write transaction, just before it records its changes: over the quota, the
transaction rolls back and nothing of the write is kept. Prune removes no content, so it does not
lower usage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fleetctl.errors import Invalid, PayloadTooLarge
from fleetctl.models.core import DEFAULT_QUOTA, Fleet
from fleetctl.services import prepared

UNITS = {"": 1, "b": 1, "kb": 1000, "mb": 1000 ** 2, "gb": 1000 ** 3, "tb": 1000 ** 4,
         "kib": 1024, "mib": 1024 ** 2, "gib": 1024 ** 3, "tib": 1024 ** 4}
SIZE = re.compile(r"^\s*(\d{1,15}(?:\.\d{1,6})?)\s*([a-zA-Z]{0,3})\s*$")
MAX_QUOTA = 1024 ** 5  # 1 PiB: anything larger is a typo
# Prepared: every write runs it (see services/prepared.py).
CHARGE = "UPDATE fleet SET usage_bytes = usage_bytes + {p} WHERE id = {p} AND usage_bytes + {p} <= quota_bytes"


def parse_size(text: str) -> int:
    """'1GiB', '500MB', '64KiB', '2048' (bytes) as a number of bytes; 0, negative or nonsense is a 422."""
    match = SIZE.match(text) if isinstance(text, str) else None
    unit = match.group(2).lower() if match else None
    if not match or unit not in UNITS:
        raise Invalid(f"invalid size {text!r}: use a number and a unit such as 1GiB, 500MiB, 2GB or 64KiB "
                      f"(units: KiB, MiB, GiB, TiB, KB, MB, GB, TB)")
    size = int(float(match.group(1)) * UNITS[unit])
    if size < 1:
        raise Invalid(f"invalid size {text!r}: it must be at least 1 byte")
    if size > MAX_QUOTA:
        raise Invalid(f"invalid size {text!r}: at most 1 PiB")
    return size


def format_size(size: int) -> str:
    """Bytes as the largest binary unit that keeps it readable: '1 GiB', '1.5 MiB', '512 B'."""
    for unit, factor in (("TiB", 1024 ** 4), ("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} B"


def quota_of(value: int | None) -> int:
    """A quota in bytes given to the service layer (None: the default)."""
    if value is None:
        return DEFAULT_QUOTA
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_QUOTA:
        raise Invalid("quota must be a whole number of bytes from 1 to 1 PiB")
    return value


def size_of(*texts: str | Iterable[str] | None) -> int:
    """UTF-8 bytes of the given texts (lists of strings count each string)."""
    total = 0
    for text in texts:
        if text is None:
            continue
        for part in ([text] if isinstance(text, str) else text):
            total += len(part.encode("utf-8", "surrogatepass"))
    return total


def charge(fleet_id: int, nbytes: int) -> None:
    """Add `nbytes` to the fleet's usage inside the caller's write transaction, or refuse with 413.

    Call it late in the transaction, but before `changes.record` (which must come last): on
    PostgreSQL the UPDATE locks the fleet's row until commit, so two writes cannot both squeeze under
    the quota, and the later it comes, the shorter the fleet's writers wait on each other.
    """
    if nbytes <= 0:
        return
    if prepared.run(CHARGE, (nbytes, fleet_id, nbytes)).rowcount:
        return
    fleet = Fleet.get_by_id(fleet_id)
    raise PayloadTooLarge(
        f"fleet {fleet.name!r} is over its storage quota of {format_size(fleet.quota_bytes)}: "
        f"{fleet.usage_bytes} of {fleet.quota_bytes} bytes used, this write needs {nbytes} more; "
        f"nothing was written", quota=fleet.quota_bytes, usage=fleet.usage_bytes, needed=nbytes)
