"""Cross-fleet policy as data: a target member's registration decides what it accepts."""

from __future__ import annotations

from fleetctl.errors import Forbidden
from fleetctl.models.core import Member


def check_delivery(sender: Member, target: Member, domains: list[str], what: str = "message") -> None:
    """Allow `sender` to send a message or assign a task with `domains` to `target`, or raise 403.

    The detail names the rule that failed, so the sender knows what to ask the other fleet for.
    """
    if target.revoked_at is not None:
        raise Forbidden(f"{target.address} is revoked (rule: revoked)")
    if target.fleet_id == sender.fleet_id:
        return
    if not target.cross_fleet:
        raise Forbidden(f"{target.address} does not accept cross-fleet {what}s (rule: cross_fleet)")
    if target.allow_fleets and sender.fleet.name not in target.allow_fleets:
        raise Forbidden(f"{target.address} does not accept {what}s from fleet {sender.fleet.name!r} "
                        f"(rule: allow_fleets)")
    if not set(domains) & set(target.domains):
        wanted = ", ".join(target.domains) or "none"
        raise Forbidden(f"{target.address} shares no domain with this {what} "
                        f"(rule: domains; it accepts: {wanted})")
