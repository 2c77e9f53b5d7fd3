"""The quickstart's demo server: started detached on a free port, found again, stopped.

Its files live in the user's data dir: `demo.db` (the database), `demo-server.log` (its output) and
`demo-server.json` (pid, port and URL of the running server).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from fleetctl import config
from fleetctl.client import Client
from fleetctl.errors import FleetError

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
SERVING = re.compile(r"fleetctl serving on (http://[\d.]+:(\d+)) .*pid (\d+)")


@dataclass
class DemoServer:
    """A running demo server as recorded in the state file."""

    pid: int
    port: int
    url: str
    db: str
    log: str
    reused: bool = False


def files() -> tuple[Path, Path, Path]:
    """(database, log, state file) of the demo, in the data dir."""
    base = config.data_dir()
    return base / "demo.db", base / "demo-server.log", base / "demo-server.json"


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True when a fleetctl server answers GET /healthz at `url`."""
    try:
        client = Client(url, timeout=timeout)
    except FleetError:
        return False
    try:
        answer = client.system.healthz()
    except FleetError:
        return False
    finally:
        client.close()
    return isinstance(answer, dict) and answer.get("ok") is True


def _alive(pid: int) -> bool:
    """True when `pid` runs a fleetctl server (a zombie child of ours is reaped and counts as gone)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process took the pid: not our server
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return b"fleetctl" in cmdline and b"serve" in cmdline


def recorded() -> DemoServer | None:
    """The server the state file names, if that process still runs and answers /healthz."""
    state = files()[2]
    try:
        data = json.loads(state.read_text())
        server = DemoServer(**{k: data[k] for k in ("pid", "port", "url", "db", "log")})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if _alive(server.pid) and healthy(server.url):
        server.reused = True
        return server
    return None


def _wait_for_start(proc: subprocess.Popen, log: Path, offset: int) -> tuple[str, int]:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with log.open("rb") as fh:
            fh.seek(offset)
            match = SERVING.search(fh.read().decode("utf-8", "replace"))
        if match and healthy(match.group(1)):
            return match.group(1), int(match.group(2))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[offset:].strip().splitlines()[-3:]
    if proc.poll() is None:
        proc.terminate()
    raise FleetError(f"the demo server did not start (see {log}): {' | '.join(tail) or 'no output'}")


def start() -> DemoServer:
    """Start `fleetctl serve` on a free loopback port, detached, and record it in the state file."""
    db, log, state = files()
    db.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        offset = out.tell()
        env = {k: v for k, v in os.environ.items() if k not in ("FLEET_DB", "FLEET_URL", "FLEET_TOKEN")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "fleetctl", "serve", "--host", "127.0.0.1", "--port", "0", "--db", str(db)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            close_fds=True, env=env)
    url, port = _wait_for_start(proc, log, offset)
    server = DemoServer(pid=proc.pid, port=port, url=url, db=str(db), log=str(log))
    record = {k: v for k, v in asdict(server).items() if k != "reused"}
    state.write_text(json.dumps(record | {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, indent=2) + "\n")
    return server


def ensure() -> DemoServer:
    """The running demo server, started first if there is none (or it no longer answers)."""
    return recorded() or start()


def stop() -> dict:
    """SIGTERM the recorded demo server, wait for it (SIGKILL after a while), forget it."""
    state = files()[2]
    try:
        data = json.loads(state.read_text())
        pid, url = int(data["pid"]), data["url"]
    except FileNotFoundError:
        return {"stopped": False, "detail": "no demo server was started"}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        state.unlink(missing_ok=True)
        return {"stopped": False, "detail": f"unreadable state file removed ({exc})"}
    if not _alive(pid):
        state.unlink(missing_ok=True)
        return {"stopped": False, "pid": pid, "url": url, "detail": "the demo server was not running"}
    os.kill(pid, signal.SIGTERM)
    forced = False
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid):
        if time.monotonic() > deadline:
            if forced:
                raise FleetError(f"the demo server (pid {pid}) survived SIGKILL")
            os.kill(pid, signal.SIGKILL)
            forced, deadline = True, time.monotonic() + STOP_TIMEOUT
        time.sleep(0.05)
    state.unlink(missing_ok=True)
    return {"stopped": True, "pid": pid, "url": url, "forced": forced,
            "detail": "killed after it ignored SIGTERM" if forced else "stopped"}
