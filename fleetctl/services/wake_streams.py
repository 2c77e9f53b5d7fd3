"""Who reads which change: the stream keys news is written to and read from.

A wake reads only the streams of the member being woken, so other members' and other fleets'
writes never touch its reads:

- addressed news (a message, a task event, a review) goes to the stream of each member it
  concerns: `tasks@42`;
- reviews to do go to the fleet's review stream, read by its humans: `tasks#7`;
- knowledge and document versions are broadcast once, whatever the fleet's size, to the fleet's
  stream of each of their domains (`knowledge:7:infra`, or `knowledge:7:` when untagged), to the
  fleet's whole stream (`knowledge:7:*`, read by members without domains) and, when cross-fleet,
  to the cross-fleet stream of each domain (`knowledge:x:infra`).
"""

from __future__ import annotations

from fleetctl.models.core import Member
from fleetctl.wake_layout import BY_KEY


def to_member(section: str, member_id: int) -> str:
    """The stream of one member's news of one section."""
    return f"{section}@{member_id}"


def reviews(fleet_id: int) -> str:
    """The stream of tasks waiting for a review by the humans of a fleet."""
    return f"tasks#{fleet_id}"


def broadcast(section: str, fleet_id: int, domains: list[str], visibility: str) -> list[str]:
    """The streams an item of `fleet_id` with `domains` and `visibility` is written to."""
    keys = [f"{section}:{fleet_id}:*"]
    keys += [f"{section}:{fleet_id}:{d}" for d in domains] or [f"{section}:{fleet_id}:"]
    if visibility == "cross-fleet":
        keys += [f"{section}:x:{d}" for d in domains]
    return keys


def of_member(section: str, member: Member) -> list[str]:
    """The streams a member reads for one section."""
    if BY_KEY[section].addressed:
        keys = [to_member(section, member.id)]
        if section == "tasks" and member.is_human:
            keys.append(reviews(member.fleet_id))
        return keys
    if not member.domains:
        return [f"{section}:{member.fleet_id}:*"]
    keys = [f"{section}:{member.fleet_id}:"] + [f"{section}:{member.fleet_id}:{d}" for d in member.domains]
    if member.cross_fleet:
        keys += [f"{section}:x:{d}" for d in member.domains]
    return keys


def audience(fleet_id: int, streams: list[str]) -> list[tuple[int, int | None]]:
    """Whom a change written to `streams` may concern, for the live wake: `(fleet, member)` for a
    member's own stream, `(fleet, None)` for the fleet's (and the cross-fleet) readers."""
    found: dict[tuple[int, int | None], None] = {}
    for key in streams:
        section, at, member = key.partition("@")
        if at:
            found[(fleet_id, int(member))] = None
        elif "#" in section:
            found[(int(section.partition("#")[2]), None)] = None
        else:
            found[(fleet_id, None)] = None
    return list(found)
