"""The wake loop: peek each member's wake, run a command on news, ack only when it succeeds.

At-least-once: the cursor moves only after the command exits 0, so a crashed agent run gets the
same news next time. Failures (command or server) back off exponentially per member, capped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import TextIO

from fleetctl.client import Client
from fleetctl.errors import ExitCode, FleetError

BACKOFF_CAP = 900.0
SPINNER = "|/-\\"
TICK = 0.2


@dataclass
class Target:
    """One member the daemon wakes: its profile name (if any), its client, and its backoff state."""

    profile: str | None
    client: Client
    failures: int = 0
    next_at: float = 0.0
    address: str | None = None


class Stop(Exception):
    """SIGTERM: stop between steps, cleanly."""


def stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Daemon:
    """Runs rounds over `targets`, logging one line per wake on `log`."""

    def __init__(self, targets: list[Target], command: str, interval: float = 60.0,
                 max_chars: int | None = None, log: TextIO | None = None, command_stdout: int | None = None) -> None:
        self.targets = targets
        self.command = command
        self.command_stdout = command_stdout  # None: the daemon's stdout; a file descriptor otherwise
        self.interval = interval
        self.max_chars = max_chars
        self.log = log or sys.stderr
        self.tty = self.log.isatty()
        self.last = "starting"
        self._status_shown = False
        self.verbose_empty = False

    def say(self, line: str) -> None:
        """One log line (the status line, if shown, is cleared first)."""
        if self._status_shown:
            self.log.write("\r\x1b[K")
            self._status_shown = False
        self.log.write(f"{stamp()} {line}\n")
        self.log.flush()

    def backoff(self, target: Target) -> float:
        target.failures += 1
        self.last = f"{target.address or target.profile or target.client.url}: failed {target.failures}x"
        delay = min(self.interval * 2 ** (target.failures - 1), max(BACKOFF_CAP, self.interval))
        target.next_at = time.monotonic() + delay
        return delay

    def _name(self, target: Target) -> str:
        """`fleet/name (profile)` for the log; the profile or URL until the server has answered."""
        if target.address is None:
            try:
                target.address = target.client.get("/v1/whoami")["member"]["address"]
            except (FleetError, KeyError, TypeError):
                return target.profile or target.client.url
        return f"{target.address} (profile {target.profile})" if target.profile else target.address

    def wake_one(self, target: Target) -> int:
        """Peek, run the command on news, ack on exit 0; returns 0 or the failure's exit code."""
        try:
            data = target.client.get("/v1/wake", max_chars=self.max_chars)
        except FleetError as err:
            delay = self.backoff(target)
            self.say(f"{target.profile or target.client.url}: cannot wake: {err.detail}; retry in {delay:.0f}s")
            return int(err.exit_code)
        if data["empty"]:
            target.failures = 0
            target.next_at = time.monotonic() + self.interval
            self.last = f"{self._name(target)}: nothing new"
            if self.verbose_empty:
                self.say(f"{self.last} (cursor {data['cursor']})")
            return 0
        counts = [c for key, c in data.get("counts", {}).items() if key != "pinned"]
        news = f"{sum(c['total'] for c in counts)}{'+' if any(c['more'] for c in counts) else ''}"
        who = self._name(target)
        code = self.run_command(target, data)
        if code != 0:
            delay = self.backoff(target)
            self.say(f"{who}: {news} new (cursor {data['cursor']}); command exited {code}; "
                     f"not acked, retry in {delay:.0f}s")
            return int(ExitCode.ERROR)
        try:
            target.client.post("/v1/wake/ack", {"cursor": data["cursor"]})
        except FleetError as err:
            delay = self.backoff(target)
            self.say(f"{who}: {news} new; command exited 0 but the ack failed: {err.detail}; "
                     f"retry in {delay:.0f}s")
            return int(err.exit_code)
        target.failures = 0
        target.next_at = time.monotonic() + self.interval
        self.last = f"{who}: {news} new, acked"
        self.say(f"{who}: {news} new (cursor {data['cursor']}); command exited 0; acked")
        return 0

    def run_command(self, target: Target, data: dict) -> int:
        """Run the command through the shell with the prompt on stdin, in the env and in a temp file."""
        prompt = data["prompt"]
        fd, path = tempfile.mkstemp(prefix="fleet-wake-", suffix=".md")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(prompt)
            env = {**os.environ, "FLEET_WAKE_PROMPT": prompt, "FLEET_WAKE_FILE": path,
                   "FLEET_WAKE_CURSOR": str(data["cursor"]), "FLEET_URL": target.client.url}
            if target.client.token:
                env["FLEET_TOKEN"] = target.client.token
            env.pop("FLEET_PROFILE", None)
            try:
                return subprocess.run(self.command, shell=True, input=prompt.encode("utf-8"), env=env,
                                      stdout=self.command_stdout, check=False).returncode
            except OSError as exc:
                self.say(f"cannot run `{self.command}`: {exc}")
                return 127
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def round(self, force: bool = False) -> int:
        """Wake every target that is due (all with `force`); returns the first failure's code or 0."""
        worst = 0
        for target in self.targets:
            if force or time.monotonic() >= target.next_at:
                code = self.wake_one(target)
                worst = worst or code
        return worst

    def wait(self) -> None:
        """Sleep until the next target is due, with a status line on a TTY."""
        spin = 0
        while True:
            left = min(t.next_at for t in self.targets) - time.monotonic()
            if left <= 0:
                return
            if self.tty:
                self.log.write(f"\r\x1b[K{SPINNER[spin % 4]} waiting, next check in {math.ceil(left)}s "
                               f"(last: {self.last}; Ctrl-C stops)")
                self.log.flush()
                self._status_shown = True
                spin += 1
            time.sleep(min(TICK, left))

    def run(self, once: bool = False) -> int:
        """Run one round (`once`) or loop until Ctrl-C (exit 130) or SIGTERM (exit 0)."""
        previous = _on_sigterm()
        try:
            if once:
                self.verbose_empty = True
                return self.round(force=True)
            while True:
                self.round()
                self.wait()
        except KeyboardInterrupt:
            self.say("interrupted; stopping")
            return 130
        except Stop:
            self.say("terminated; stopping")
            return 0
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            for target in self.targets:
                target.client.close()


def _on_sigterm():
    """Turn SIGTERM into `Stop` (systemd stops services with it); returns the previous handler."""

    def handler(signum, frame):
        raise Stop()

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        return None
