"""Generate the shell completions and the man page from the CLI itself.

Run `python -m fleetctl.cli.docgen` after changing a command; a test fails while they are stale.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SHELLS = {"bash": "fleetctl.bash", "zsh": "_fleetctl", "fish": "fleetctl.fish"}
ENVIRONMENT = [
    ("FLEET_URL", "Server URL (default http://127.0.0.1:8700)."),
    ("FLEET_TOKEN", "Bearer token of the acting member."),
    ("FLEET_PROFILE", "Profile written by fleetctl login."),
    ("FLEET_OUTPUT", "Set to json to make --json the default."),
    ("FLEET_TIMEOUT", "Seconds a client waits for the server's answer (default 30; the --timeout option)."),
    ("FLEET_DB", "Database of serve and the local commands: a SQLite path or a postgresql:// URL."),
    ("FLEET_CONFIG_DIR", "Directory of profiles.json (default: the user config dir)."),
    ("FLEET_DATA_DIR", "Directory of the default database and the quickstart files (default: the user data dir)."),
    ("FLEET_BCRYPT_ROUNDS", "bcrypt cost of new tokens (default 10)."),
    ("FLEET_AUTH_CACHE_TTL", "Seconds a verified token stays cached by a server (default and maximum 30)."),
    ("FLEET_AUTH_FAILURES_PER_MINUTE", "Failed authentications allowed per client address and minute (default 60)."),
    ("FLEET_RATE_SYNC_MS", "How often servers on PostgreSQL sync shared rate-limit counters (default 300)."),
    ("NO_COLOR", "Disable colours in human output."),
]
EXIT_CODES = [(0, "ok"), (1, "other error"), (2, "usage error or invalid input"),
              (3, "not authenticated or not allowed (401/403)"), (4, "not found (404)"),
              (5, "conflict or invalid transition (409)"), (6, "rate limited (429)"), (7, "server unreachable"),
              (130, "interrupted (Ctrl-C)")]


def completion(shell: str) -> str:
    """The completion script Typer generates for `shell`."""
    env = {**os.environ, "_FLEETCTL_COMPLETE": f"source_{shell}"}
    code = "from fleetctl.cli.main import app; app(prog_name='fleetctl')"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return out.stdout


def _roff(text: str) -> str:
    lines = []
    for line in (text or "").strip().splitlines():
        line = line.replace("\\", "\\\\").replace("-", "\\-")
        lines.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def _walk(cmd, path: list[str]):
    yield path, cmd
    for name in getattr(cmd, "list_commands", lambda _ctx: [])(None):
        yield from _walk(cmd.commands[name], [*path, name])


def _usage(cmd, path: list[str]) -> str:
    args = " ".join(p.name.upper() for p in cmd.params if getattr(p, "param_type_name", "") == "argument")
    return " ".join(["fleetctl", *path, "[OPTIONS]", args]).strip()


def _options(cmd) -> list[str]:
    out = []
    for param in cmd.params:
        opts = getattr(param, "opts", []) + getattr(param, "secondary_opts", [])
        if getattr(param, "param_type_name", "") != "option" or not opts or "--help" in opts:
            continue
        if "--install-completion" in opts or "--show-completion" in opts:
            continue
        out += [".TP", ".B " + _roff(", ".join(opts)), _roff(getattr(param, "help", "") or "")]
        if getattr(param, "envvar", None):
            out.append(_roff(f"Environment: {param.envvar}."))
    return out


def manpage() -> str:
    """roff source of fleetctl(1): every command with its options, the environment and exit codes."""
    import typer

    from fleetctl import __version__
    from fleetctl.cli.main import HELP, app

    root = typer.main.get_command(app)
    out = [f'.TH FLEETCTL 1 "" "fleetctl {__version__}" "User Commands"', ".SH NAME",
           "fleetctl \\- a coordination hub for fleets of AI agents", ".SH SYNOPSIS",
           ".B fleetctl",
           "[\\-\\-url URL] [\\-\\-token TOKEN] [\\-\\-profile P] [\\-\\-timeout S] [\\-\\-json] COMMAND ...",
           ".SH DESCRIPTION", _roff(HELP.split("Exit codes:")[0]), ".SH GLOBAL OPTIONS",
           *_options(root), ".SH COMMANDS"]
    for path, cmd in _walk(root, []):
        has_children = hasattr(cmd, "commands") and cmd.commands
        if not path or has_children and not cmd.params:
            continue
        out += [".SS " + _roff(" ".join(path)), ".B " + _roff(_usage(cmd, path)), ".PP", _roff(cmd.help or "")]
        out += _options(cmd)
    out.append(".SH ENVIRONMENT")
    for name, text in ENVIRONMENT:
        out += [".TP", f".B {name}", _roff(text)]
    out.append(".SH EXIT STATUS")
    for code, text in EXIT_CODES:
        out += [".TP", f".B {code}", _roff(text)]
    out += [".SH FILES", "Profiles: profiles.json in the user config dir (mode 0600).",
            ".SH SEE ALSO", "The README of fleetctl; \\fBfleetctl COMMAND \\-\\-help\\fR."]
    return "\n".join(out) + "\n"


def generate(root: Path) -> dict[Path, str]:
    """Every generated file (path relative to the repo root) and its content."""
    files = {Path("completions") / name: completion(shell) for shell, name in SHELLS.items()}
    files[Path("man") / "fleetctl.1"] = manpage()
    return {root / path: text for path, text in files.items()}


def main() -> None:
    """`python -m fleetctl.cli.docgen [ROOT]`: write the completions and the man page under ROOT (the checkout)."""
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit("usage: python -m fleetctl.cli.docgen [ROOT]   (writes completions/ and man/ under ROOT)")
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    for path, text in generate(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
