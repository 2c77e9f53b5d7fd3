"""The wake loop: wait for each member's news, run a command on it, ack only when it succeeds.

Live: one thread per member holds `GET /v1/wake?wait=S` (S = --interval, at most 60), so a
command starts within a second of the write that concerns its member; the commands of several
members run concurrently, at most --parallel at a time. At-least-once: the cursor moves only
after the command exits 0, so a crashed agent run gets the same news next time. A failed command
or a refusal backs off exponentially from --interval (capped at 15 minutes); a server that went
away is retried after 1, 2, 4... seconds (at most 30) until it is back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import TextIO

from fleetctl.client import Client
from fleetctl.errors import ExitCode, FleetError, Unreachable
from fleetctl.wake_layout import MARKED

BACKOFF_CAP = 900.0
RECONNECT_CAP = 30.0  # a server that went away is retried at least this often
MAX_WAIT = 60  # the longest wait the server holds
POLL_FALLBACK = 10.0  # a server that answers an empty wait at once (old, or at --max-waiters) is polled this often
STOP_GRACE = 5.0  # seconds running commands get to exit after SIGTERM when the daemon stops
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
                 max_chars: int | None = None, log: TextIO | None = None, command_stdout: int | None = None,
                 parallel: int = 4) -> None:
        self.targets = targets
        self.command = command
        self.command_stdout = command_stdout  # None: the daemon's stdout; a file descriptor otherwise
        self.interval = interval
        self.wait_s = int(min(MAX_WAIT, max(1, interval)))
        self.max_chars = max_chars
        self.log = log or sys.stderr
        self.tty = self.log.isatty()
        self.last = "starting"
        self._status_shown = False
        self.verbose_empty = False
        self.slots = threading.BoundedSemaphore(max(1, parallel))
        self.stopping = threading.Event()
        self._lock = threading.Lock()  # log lines and the set of running commands
        self._running: set[subprocess.Popen] = set()

    def say(self, line: str) -> None:
        """One log line (the status line, if shown, is cleared first); the members' threads fall silent
        once the daemon is stopping, so its last line says so."""
        if self.stopping.is_set() and threading.current_thread() is not threading.main_thread():
            return
        with self._lock:
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

    def reconnect(self, target: Target) -> float:
        """The server went away (or failed): retry soon, 1, 2, 4... seconds, at most RECONNECT_CAP."""
        target.failures += 1
        self.last = f"{target.address or target.profile or target.client.url}: server unavailable"
        delay = min(2.0 ** (target.failures - 1), RECONNECT_CAP)
        target.next_at = time.monotonic() + delay
        return delay

    def retry(self, target: Target, err: FleetError) -> float:
        """The delay after a server error: soon if the server went away or failed, else backed off."""
        away = isinstance(err, Unreachable) or err.http_status >= 500
        return self.reconnect(target) if away else self.backoff(target)

    def _name(self, target: Target) -> str:
        """`fleet/name (profile)` for the log; the profile or URL until the server has answered."""
        if target.address is None:
            try:
                target.address = target.client.system.whoami()["member"]["address"]
            except (FleetError, KeyError, TypeError):
                return target.profile or target.client.url
        return f"{target.address} (profile {target.profile})" if target.profile else target.address

    def wake_one(self, target: Target, wait: int | None = None) -> int:
        """Peek (holding up to `wait` seconds for news), run the command on news, ack on exit 0;
        returns 0 or the failure's exit code."""
        asked = time.monotonic()
        try:
            data = target.client.wake.peek(max_chars=self.max_chars, wait=wait)
        except FleetError as err:
            if self.stopping.is_set():
                return 0
            delay = self.retry(target, err)
            self.say(f"{target.profile or target.client.url}: cannot wake: {err.detail}; retry in {delay:.0f}s")
            return int(err.exit_code)
        if data["empty"]:
            target.failures = 0
            answered_at_once = wait is not None and time.monotonic() - asked < min(1.0, wait / 2)
            target.next_at = time.monotonic() + (min(self.interval, POLL_FALLBACK) if answered_at_once
                                                 else 0 if wait else self.interval)
            self.last = f"{self._name(target)}: nothing new"
            if self.verbose_empty:
                self.say(f"{self.last} (cursor {data['cursor']})")
            return 0
        counts = [c for key, c in data.get("counts", {}).items() if key in MARKED]
        news = f"{sum(c['total'] for c in counts)}{'+' if any(c['more'] for c in counts) else ''}"
        who = self._name(target)
        with self.slots:
            if self.stopping.is_set():
                return 0
            code = self.run_command(target, data)
        if self.stopping.is_set():
            return 0  # stopped while the command ran: not acked, the news comes again next time
        if code != 0:
            delay = self.backoff(target)
            self.say(f"{who}: {news} new (cursor {data['cursor']}); command exited {code}; "
                     f"not acked, retry in {delay:.0f}s")
            return int(ExitCode.ERROR)
        try:
            target.client.wake.ack(data["cursor"])
        except FleetError as err:
            delay = self.retry(target, err)
            self.say(f"{who}: {news} new; command exited 0 but the ack failed: {err.detail}; "
                     f"retry in {delay:.0f}s")
            return int(err.exit_code)
        target.failures = 0
        target.next_at = time.monotonic() + (0 if wait else self.interval)
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
                # A process group of its own: stopping the daemon stops the command and all its children.
                process = subprocess.Popen(self.command, shell=True, stdin=subprocess.PIPE, env=env,
                                           stdout=self.command_stdout, process_group=0)
            except OSError as exc:
                self.say(f"cannot run `{self.command}`: {exc}")
                return 127
            with self._lock:
                self._running.add(process)
            try:
                process.communicate(prompt.encode("utf-8"))
                return process.wait()
            finally:
                with self._lock:
                    self._running.discard(process)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)

    def round(self, force: bool = False) -> int:
        """Wake every target that is due (all with `force`) at once, without waiting for news;
        returns the first failure's code (in target order) or 0."""
        due = [t for t in self.targets if force or time.monotonic() >= t.next_at]
        codes = {id(t): 0 for t in due}

        def one(target: Target) -> None:
            codes[id(target)] = self.wake_one(target)

        threads = [threading.Thread(target=one, args=(t,), daemon=True) for t in due[1:]]
        for thread in threads:
            thread.start()
        if due:
            one(due[0])
        for thread in threads:
            thread.join()
        return next((codes[id(t)] for t in due if codes[id(t)]), 0)

    def follow(self, target: Target) -> None:
        """One member's loop (in a thread of its own): wait for news, handle it, again, until stopped."""
        while not self.stopping.is_set():
            left = target.next_at - time.monotonic()
            if left > 0:
                self.stopping.wait(left)
                continue
            self.wake_one(target, wait=self.wait_s)

    def watch(self) -> None:
        """The main thread while the members' threads wait: a status line on a TTY, until a signal stops it."""
        spin = 0
        while True:
            if self.tty:
                with self._lock:
                    busy = len(self._running)
                    self.log.write(f"\r\x1b[K{SPINNER[spin % 4]} waiting for news "
                                   f"({len(self.targets)} member(s), {busy} command(s) running; "
                                   f"last: {self.last}; Ctrl-C stops)")
                    self.log.flush()
                    self._status_shown = True
                spin += 1
            time.sleep(TICK)

    def halt(self) -> None:
        """Stop: no new command, running ones get SIGTERM and STOP_GRACE seconds, none of them is acked."""
        self.stopping.set()
        with self._lock:
            running = list(self._running)
        for process in running:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)

    def run(self, once: bool = False) -> int:
        """Run one round (`once`) or wait for news until Ctrl-C (exit 130) or SIGTERM (exit 0)."""
        previous = _on_sigterm()
        try:
            if once:
                self.verbose_empty = True
                return self.round(force=True)
            for target in self.targets:
                threading.Thread(target=self.follow, args=(target,), daemon=True,
                                 name=f"fleetctl-daemon-{target.profile or 'default'}").start()
            self.watch()
        except KeyboardInterrupt:
            self.halt()
            self.say("interrupted; stopping")
            return 130
        except Stop:
            self.halt()
            self.say("terminated; stopping")
            return 0
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            if once:
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
