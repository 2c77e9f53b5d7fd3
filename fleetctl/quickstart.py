"""`fleetctl quickstart`: a demo server, two fleets, their agents and profiles, then the stories.

Every step is a real `fleetctl` command run in-process through the Typer app (`quickstart_runner`);
the stories and their cast are in `quickstart_stories`.
"""

from __future__ import annotations

import contextlib
import os

from fleetctl import config, demo_server
from fleetctl import quickstart_stories as stories
from fleetctl.cli import output
from fleetctl.errors import FleetError
from fleetctl.quickstart_runner import Runner
from fleetctl.quickstart_stories import CAST

FLEETS = ("acme", "labs")
AMBIENT = ("FLEET_URL", "FLEET_TOKEN", "FLEET_PROFILE", "FLEET_OUTPUT")


def _works(r: Runner, profile: str) -> dict | None:
    """The member behind a saved profile, if its token still works on the demo server."""
    if profile not in config.load_profiles()["profiles"]:
        return None
    res = r.run("whoami", profile=profile, show=False, ok=(0, 3, 4))
    return res.data["member"] if res.code == 0 else None


def _save(profile: str, url: str, token: str) -> None:
    """Save a demo profile: marked as the quickstart's, never made current."""
    fleet, _, name = profile.partition("-")
    config.save_profile(profile, url, token, make_current=False, member=f"{fleet}/{name}", demo=True)


def _point_profiles_at(url: str) -> None:
    """Saved demo profiles follow the demo server to its new port (tokens kept)."""
    stored = config.load_profiles()["profiles"]
    for fleet, name, *_ in CAST:
        entry = stored.get(f"{fleet}-{name}")
        if entry and entry.get("token") and entry.get("url") != url:
            _save(f"{fleet}-{name}", url, entry["token"])


def _remint_owner(db: str, fleet: str) -> str:
    """A new token for a fleet's first owner, minted on the database (the root of trust, no network)."""
    # Lazy: the server stack (peewee, models) loads only when a rerun lost its owner's token.
    from fleetctl import db as database
    from fleetctl.models.core import Fleet, Member
    from fleetctl.services import tokens

    database.open_database(db, migrate_now=False)
    owner = (Member.select().join(Fleet).where(Fleet.name == fleet, Member.role == "owner",
                                                Member.revoked_at.is_null()).order_by(Member.id).first())
    if owner is None:
        raise FleetError(f"fleet {fleet!r} of the demo database has no owner left; delete {db} to start over")
    return tokens.mint(owner)


def _setup_fleet(r: Runner, server: demo_server.DemoServer, fleet: str) -> dict[str, str]:
    """Create `fleet` (or find it), then its members; every token lands in a profile. Returns profile->address."""
    profiles: dict[str, str] = {}
    owner_profile = f"{fleet}-owner"
    res = r.run("fleet", "create", fleet, "--db", server.db, show=False, ok=(0, 5))
    if res.code == 0:
        _save(owner_profile, server.url, res.data["token"])
        r.say(f"  created fleet {fleet}; owner token saved as profile {owner_profile}")
        fresh = True
    else:
        fresh = False
        r.say(f"  fleet {fleet} exists already: reusing its profiles")
        if _works(r, owner_profile) is None:
            _save(owner_profile, server.url, _remint_owner(server.db, fleet))
            r.say(f"  minted a new owner token on the database for profile {owner_profile}")
    profiles[owner_profile] = f"{fleet}/owner"
    for f, name, role, domains, cross in CAST:
        if f != fleet or name == "owner":
            continue
        profile = f"{fleet}-{name}"
        profiles[profile] = f"{fleet}/{name}"
        if not fresh and _works(r, profile):
            continue
        args = ["agent", "register", name, "--role", role]
        for d in domains:
            args += ["--domain", d]
        if cross:
            args.append("--cross-fleet")
        res = r.run(*args, profile=owner_profile, show=False, ok=(0, 5))
        if res.code == 5:
            res = r.run("token", "rotate", name, profile=owner_profile, show=False)
        _save(profile, server.url, res.data["token"])
        r.say(f"  {res.data['member']['address']} ({role}; {', '.join(domains) or 'no domains'}"
              f"{'; cross-fleet' if cross else ''}): token saved as profile {profile}")
    return profiles


@contextlib.contextmanager
def _clean_env():
    """Ambient credentials must not redirect the demo's commands to another server."""
    saved = {k: os.environ.pop(k) for k in AMBIENT if k in os.environ}
    try:
        yield saved
    finally:
        os.environ.update(saved)


def run(human: bool = True) -> dict:
    """The whole quickstart: server, fleets, agents, profiles, the three stories; returns a summary."""
    r = Runner(human=human)
    with _clean_env() as ambient:
        r.heading("Demo server")
        with output.progress("starting the demo server...") if human else contextlib.nullcontext():
            server = demo_server.ensure()
        r.say(f"  {'reusing' if server.reused else 'started'} {server.url} (pid {server.pid}; "
              f"database {server.db}; log {server.log})")
        _point_profiles_at(server.url)
        r.heading("Fleets, agents and profiles")
        profiles: dict[str, str] = {}
        for fleet in FLEETS:
            profiles.update(_setup_fleet(r, server, fleet))
        results = {"gotcha": stories.gotcha(r), "research": stories.research(r), "breaking": stories.breaking(r)}
    summary = {"server": {"url": server.url, "pid": server.pid, "reused": server.reused, "db": server.db,
                          "log": server.log},
               "profiles": profiles, "stories": results, "commands": r.commands,
               "current_profile": config.load_profiles().get("current")}
    stories.next_steps(r, summary, ambient)
    return summary


def demo_profiles() -> list[str]:
    """The saved profiles the quickstart wrote."""
    return [name for name, p in config.load_profiles()["profiles"].items() if p.get("demo")]


def stop(clean: bool = False) -> dict:
    """Stop the demo server started by an earlier quickstart. A current profile of the demo stops being
    current (it would point at a dead server); `clean` also removes the demo's profiles, database and log."""
    result = demo_server.stop()
    profiles = config.load_profiles()
    current = profiles.get("current")
    at_demo = current and profiles["profiles"].get(current, {}).get("url") == result.get("url")
    result["uncurrent"] = current if current in demo_profiles() or at_demo else None
    if result["uncurrent"]:
        config.use_profile(None)
    result["removed_profiles"], result["removed_files"] = [], []
    if clean:
        result["removed_profiles"] = demo_profiles()
        if result["removed_profiles"]:
            config.remove_profiles(result["removed_profiles"])
        db, log, _ = demo_server.files()
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm"), log):
            if path.exists():
                path.unlink()
                result["removed_files"].append(str(path))
    return result
