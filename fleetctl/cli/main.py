"""The `fleetctl` entry point: builds the root app (cli/root.py) with only what the command line needs.

`fleetctl whoami` registers and converts only the commands of its own module; `--help`, a bad or missing
command and `app` (docs, tests) get every command. `fleetctl mcp` builds no app at all (cli/fastpath.py),
so this module imports neither Typer nor the command modules until it must.
"""

from __future__ import annotations

import os
import sys

from fleetctl.cli import fastpath
from fleetctl.errors import ExitCode

_ROOT_NAMES = ("HELP", "MODULES", "COMMAND_MODULES", "PANELS", "build", "root")


def __getattr__(name: str):
    """`app` (the root app with every command, built on first use) and the names of cli/root.py."""
    if name != "app" and name not in _ROOT_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from fleetctl.cli import root

    if name == "app":
        globals()["app"] = app = root.build()
        return app
    return getattr(root, name)


def app_for(argv: list[str]):
    """The app with only the module of the command `argv` names, when it names one; else every command."""
    from fleetctl.cli import root

    if os.environ.get("_FLEETCTL_COMPLETE"):
        return __getattr__("app")
    if argv[:1] == ["--version"]:
        return root.build(())  # an eager option: it prints and exits before any command is looked up
    split = fastpath.split_root(argv)
    module = root.COMMAND_MODULES.get(split[1][0]) if split and split[1] else None
    return root.build((module,)) if module else __getattr__("app")


def main() -> None:
    """Console-script entry point."""
    try:
        argv = sys.argv[1:]
        if not fastpath.mcp(argv):
            app_for(argv)(prog_name="fleetctl")
    except KeyboardInterrupt:  # before or after a command ran (its own Ctrl-C is handled inside)
        print("fleetctl: error: interrupted", file=sys.stderr)
        raise SystemExit(ExitCode.INTERRUPTED) from None
