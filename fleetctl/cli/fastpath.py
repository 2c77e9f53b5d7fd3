"""Command lines that skip building the Typer app: `fleetctl [root options] mcp` starts the stdio MCP
server at once (an agent's MCP client waits on it), and the split of argv that tells cli/main.py which
command module a run needs. Anything unusual (help, a bad option or value, an error) goes the normal way.
"""

from __future__ import annotations

import os
import sys

from fleetctl.errors import ExitCode, FleetError, Unauthorized

ROOT_VALUES = {"--url": "FLEET_URL", "--token": "FLEET_TOKEN", "--profile": "FLEET_PROFILE",
               "--timeout": "FLEET_TIMEOUT"}  # root options that take a value, and their variables
ROOT_FLAGS = ("--json", "--debug")


def split_root(argv: list[str]) -> tuple[dict[str, str | bool], list[str]] | None:
    """(root options given on the command line, the command and its arguments), or None when something
    before the command is not a plain root option (help, version, completion, `--`, a typo)."""
    options: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if not name.startswith("-"):
            return options, argv[i:]
        if name in ROOT_FLAGS and not eq:
            options[name] = True
            i += 1
        elif name in ROOT_VALUES and (eq or i + 1 < len(argv)):
            options[name] = value if eq else argv[i + 1]
            i += 1 if eq else 2
        else:
            return None
    return options, []


def mcp_settings(url: str | None, token: str | None, profile: str | None, url_from_env: bool,
                 token_from_env: bool):
    """The connection settings of `fleetctl mcp`: a chosen profile beats inherited FLEET_URL/FLEET_TOKEN."""
    from fleetctl import config

    if os.environ.get("FLEET_TOKEN") == "" and not profile:
        # An entry with "FLEET_TOKEN": "${FLEET_TOKEN}" whose variable was unset: never fall back to a profile.
        raise Unauthorized("FLEET_TOKEN is set but empty; set it to the member's token (or use --profile)")
    if not profile:
        return config.resolve(url, token, None)
    stored = config.load_profiles()["profiles"].get(profile)
    if not stored:
        raise FleetError(f"no profile named {profile!r}; run `fleetctl login --profile {profile}`")
    # Only flags beat the chosen profile; FLEET_URL/FLEET_TOKEN from the environment do not.
    url = None if url_from_env else url
    token = None if token_from_env else token
    return config.Settings(url=(url or stored.get("url") or config.DEFAULT_URL).rstrip("/"),
                           token=token or stored.get("token"), profile=profile)


def _root_value(options: dict, flag: str) -> tuple[str | None, bool]:
    """A root option's value as Typer resolves it (the flag, else a non-empty variable) and whether it
    came from the environment."""
    if flag in options:
        return options[flag], False
    value = os.environ.get(ROOT_VALUES[flag]) or None
    return value, value is not None


def _timeout_ok(value: str | None) -> bool:
    try:
        return value is None or float(value) >= 0.1
    except ValueError:
        return False


def mcp(argv: list[str]) -> bool:
    """Serve `fleetctl [root options] mcp` on stdio and return True; False when `argv` is anything else
    or its settings fail (the Typer app then runs it and reports the error exactly as usual)."""
    split = split_root(argv)
    if split is None or split[1] != ["mcp"]:
        return False
    options = split[0]
    timeout, _ = _root_value(options, "--timeout")
    if not _timeout_ok(timeout):
        return False
    url, url_from_env = _root_value(options, "--url")
    token, token_from_env = _root_value(options, "--token")
    profile, _ = _root_value(options, "--profile")
    try:
        if timeout is not None:
            os.environ["FLEET_TIMEOUT"] = str(float(timeout))  # as the root callback sets it
        settings = mcp_settings(url, token, profile, url_from_env, token_from_env)
        from fleetctl.client import Client

        Client(settings.url, settings.token)  # a bad URL fails here, before serving
    except FleetError:
        return False
    from fleetctl.mcp import stdio

    try:
        stdio.serve(settings.url, settings.token)
    except Exception as exc:  # the CLI's last boundary: one line, a traceback only with --debug
        if options.get("--debug") or os.environ.get("FLEET_DEBUG"):
            raise
        detail = exc.detail if isinstance(exc, FleetError) else f"unexpected {type(exc).__name__}: {exc} " \
            "(rerun with --debug for a traceback)"
        print(f"fleetctl: error: {detail}", file=sys.stderr)
        raise SystemExit(exc.exit_code if isinstance(exc, FleetError) else ExitCode.ERROR) from None
    return True
