"""The CLI in a real terminal and real pipes: subprocesses, a pseudo-terminal for width, SIGINT, early-closing
readers, timeouts and unreachable servers."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

import pytest

FLEETCTL = f"{sys.executable} -m fleetctl"


@pytest.fixture
def crew(make_fleet):
    fleet = make_fleet("term")
    return fleet, fleet.member("dev", domains=["infra"])


def env_of(actor, **extra: str) -> dict:
    env = {**os.environ, "FLEET_URL": actor.url, "FLEET_TOKEN": actor.token, **extra}
    env.pop("COLUMNS", None)
    return env


def in_pty(args: list[str], env: dict, columns: int = 80, keys: bytes | None = None, after: str = "",
           timeout: float = 60) -> tuple[int, str]:
    """Run `fleetctl ARGS` on a pseudo-terminal `columns` wide; type `keys` once `after` was printed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    def controlling_terminal() -> None:  # so Ctrl-C typed on it is a SIGINT, as in a real terminal
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen([sys.executable, "-m", "fleetctl", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, preexec_fn=controlling_terminal)
    os.close(slave)
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        if keys is not None and after.encode() in out:
            os.write(master, keys)
            keys = None
        if proc.poll() is not None and not ready:
            break
    os.close(master)
    text = out.decode(errors="replace").replace("\r\n", "\n")
    return proc.wait(timeout=10), re.sub(r"\x1b\[[0-9;]*m", "", text)  # colours off: widths are what counts


def shell(line: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"set -o pipefail; {line}"], capture_output=True, text=True, env=env,
                          timeout=60)


class Hung(str):
    """The URL of a port that accepts connections and never answers."""

    sock: socket.socket

    def wait_for_client(self) -> None:
        self.sock.settimeout(60)
        self.conn = self.sock.accept()[0]


@pytest.fixture
def hung_server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        url = Hung(f"http://127.0.0.1:{sock.getsockname()[1]}")
        url.sock = sock
        yield url


@pytest.mark.slow
def test_pipes_that_close_early_end_quietly_with_exit_0(crew):
    fleet, dev = crew
    for n in range(3):
        assert dev.cli("task", "create", f"task {n}", "-d", "infra").exit_code == 0
    assert dev.cli("knowledge", "publish", "--kind", "tip", "--title", "t", "-d", "infra").exit_code == 0
    assert dev.cli("doc", "put", "big", "--body", "x" * 1_000_000).exit_code == 0
    env = env_of(dev)
    for line in (f"{FLEETCTL} task list | head -1", f"{FLEETCTL} task list | true",
                 f"{FLEETCTL} task list --json | true", f"{FLEETCTL} knowledge list | true",
                 f"{FLEETCTL} doc get big --raw | head -c 10", f"{FLEETCTL} --help | true",
                 f"{FLEETCTL} task list --help | head -1"):
        done = shell(line, env)
        assert done.returncode == 0 and done.stderr == "", (line, done.returncode, done.stderr)
    owner = shell(f"{FLEETCTL} audit | true", env_of(fleet.owner))
    assert owner.returncode == 0 and owner.stderr == ""
    head = shell(f"{FLEETCTL} task list | head -1", env)
    assert head.stdout.split("\t")[:2] == ["ID", "STATE"]


@pytest.mark.slow
def test_ctrl_c_exits_130(crew, hung_server, tmp_path):
    fleet, dev = crew
    waiting = subprocess.Popen([sys.executable, "-m", "fleetctl", "--url", hung_server, "--token", dev.token,
                                "whoami"], stderr=subprocess.PIPE, text=True, env=env_of(dev))
    hung_server.wait_for_client()  # it sent its request and waits for the answer
    waiting.send_signal(signal.SIGINT)
    assert waiting.wait(timeout=10) == 130
    assert waiting.stderr.read() == "fleetctl: error: interrupted\n"

    # At a prompt (the hidden token prompt of login), on a terminal.
    no_token = {k: v for k, v in env_of(dev).items() if k != "FLEET_TOKEN"}
    code, out = in_pty(["login", "--url", dev.url], no_token, keys=b"\x03", after="Token")
    assert code == 130 and "Traceback" not in out

    # The server stops cleanly on Ctrl-C, then exits 130 too.
    serve = subprocess.Popen([sys.executable, "-m", "fleetctl", "serve", "--port", "0", "--db",
                              str(tmp_path / "s.db")], stdout=subprocess.PIPE, text=True, env=env_of(dev))
    assert "fleetctl serving on" in serve.stdout.readline()
    serve.send_signal(signal.SIGINT)
    assert serve.wait(timeout=20) == 130 and "server stopped" in serve.stdout.read()


@pytest.mark.slow
def test_timeout_option_env_and_unreachable_hints(crew, hung_server):
    fleet, dev = crew
    started = time.monotonic()
    slow = subprocess.run([sys.executable, "-m", "fleetctl", "--url", hung_server, "--timeout", "0.5", "whoami"],
                          capture_output=True, text=True, env=env_of(dev), timeout=30)
    assert slow.returncode == 7 and time.monotonic() - started < 15
    assert hung_server in slow.stderr and "raise --timeout (env FLEET_TIMEOUT)" in slow.stderr
    assert slow.stderr.count("\n") == 1
    by_env = subprocess.run([sys.executable, "-m", "fleetctl", "--url", hung_server, "whoami"], capture_output=True,
                            text=True, env=env_of(dev, FLEET_TIMEOUT="0.5"), timeout=30)
    assert by_env.returncode == 7 and "FLEET_TIMEOUT" in by_env.stderr
    bad = subprocess.run([sys.executable, "-m", "fleetctl", "whoami"], capture_output=True, text=True,
                         env=env_of(dev, FLEET_TIMEOUT="soon"), timeout=30)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--timeout" in bad.stderr

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    refused = subprocess.run([sys.executable, "-m", "fleetctl", "--url", closed, "whoami"], capture_output=True,
                             text=True, env=env_of(dev), timeout=30)
    assert refused.returncode == 7 and refused.stderr.count("\n") == 1
    assert closed in refused.stderr and "Connection refused" in refused.stderr
    assert "start it with `fleetctl serve`" in refused.stderr and "fleetctl profile list" in refused.stderr


@pytest.mark.slow
def test_tables_fit_the_terminal_and_keep_id_and_state(crew):
    fleet, dev = crew
    long_title = "A very long title that goes on " + "and on " * 20 + "until the end"
    old = dev.cli("knowledge", "publish", "--kind", "gotcha", "--title", "Old advice", "-d", "infra",
                  "--json").json()
    dev.cli("knowledge", "publish", "--kind", "fix", "--title", long_title, "-d", "infra", "--supersedes",
            str(old["id"]))
    code, out = in_pty(["knowledge", "list", "--all"], env_of(dev), columns=80)
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in lines), lines
    assert re.search(r"\bID\b.*\bKIND\b.*\bSTATE\b", lines[0]), lines[0]
    assert any("superseded" in line and "Old advice" in line for line in lines), out
    long_row = next(line for line in lines if "A very long title" in line)
    assert "…" in long_row and "current" in long_row  # cut, one line, state still there
    assert len(lines) == 4  # header, rule, two rows: nothing wraps
    code, wide = in_pty(["knowledge", "list", "--all"], env_of(dev), columns=400)
    assert long_title in wide


@pytest.mark.slow
def test_help_uses_the_width_and_panels(crew):
    fleet, dev = crew
    code, out = in_pty(["--help"], env_of(dev), columns=140)
    assert code == 0
    assert max(len(line) for line in out.splitlines()) > 100  # not wrapped at 80
    at = [out.index(f"─ {panel} ─") for panel in ("Primitives", "Agents", "Admin", "Server")]
    assert at == sorted(at), at  # the primitives first, the server last
    primitives, server = out[at[0]:at[1]], out[at[3]:]
    assert all(f" {c} " in primitives for c in ("knowledge", "task", "msg", "research", "doc"))
    assert " serve " in server and " serve " not in primitives
    code, narrow = in_pty(["task", "create", "--help"], env_of(dev), columns=60)
    assert max(len(line) for line in narrow.splitlines()) <= 60


def test_help_shows_plain_metavars_everywhere():
    import typer
    from conftest import run_cli

    from fleetctl.cli import docgen
    from fleetctl.cli.main import app

    root = typer.main.get_command(app)
    for path, _cmd in docgen._walk(root, []):
        out = run_cli([*path, "--help"], env={"COLUMNS": "200"})
        text = out.stdout
        assert out.exit_code == 0, path
        for python in ("<str>", "<int", "<float", "<bool>", "list[", "range>"):
            assert python not in text, (path, python, text)
        assert not re.search(r"\{[A-Z_]+\}", text), (path, text)
    help_ = run_cli(["knowledge", "list", "--help"], env={"COLUMNS": "200"}).stdout
    assert re.search(r"--domain\s+-d\s+DOMAIN", help_) and re.search(r"--limit\s+N", help_)
    usage = run_cli(["task", "create", "--help"], env={"COLUMNS": "200"}).stdout
    assert "Usage: fleetctl task create [OPTIONS] TITLE" in usage


def test_usage_errors_exit_2_in_one_clear_line(crew, tmp_path):
    fleet, dev = crew
    for args, words in ((["task", "show", "abc"], "Invalid value for 'ID': 'abc' is not a whole number"),
                        (["task", "show", "0"], "'0' is out of range: it must be at least 1"),
                        (["knowledge", "publish", "--kind", "tip", "--title", "t", "--body-file",
                          str(tmp_path / "missing.md")], "cannot read --body-file"),
                        (["msg", "send", "dev"], "a message needs --subject"),
                        (["quickstart", "--clean"], "--clean goes with --stop")):
        result = dev.cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert words in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert "Input should be" not in result.stderr


def test_a_reply_without_subject_takes_re_subject(crew):
    fleet, dev = crew
    first = fleet.owner.cli("msg", "send", "dev", "--subject", "Deploy on Friday?", "--json").json()
    reply = dev.cli("msg", "send", "owner", "--reply-to", str(first["id"]), "--body", "yes", "--json")
    assert reply.exit_code == 0, reply.stderr
    assert reply.json()["subject"] == "Re: Deploy on Friday?" and reply.json()["thread"] == first["thread"]
    again = fleet.owner.cli("msg", "send", "dev", "--reply-to", str(reply.json()["id"]), "--json").json()
    assert again["subject"] == "Re: Deploy on Friday?"
    own = dev.cli("msg", "send", "owner", "--reply-to", str(first["id"]), "--subject", "Other", "--json").json()
    assert own["subject"] == "Other"


@pytest.mark.slow
def test_local_commands_and_serve_find_the_same_database(tmp_path):
    env = {**os.environ, "FLEET_BCRYPT_ROUNDS": "4", "FLEET_DB": "team.db"}
    run = lambda *a: subprocess.run([sys.executable, "-m", "fleetctl", *a], capture_output=True,  # noqa: E731
                                    text=True, env=env, cwd=tmp_path, timeout=60)
    created = run("fleet", "create", "acme")
    where = str(tmp_path / "team.db")
    assert created.returncode == 0 and f"in database {where}." in created.stdout, created.stdout
    assert "8700" not in created.stdout and "fleetctl login --url URL --profile acme" in created.stdout
    token = next(line for line in created.stdout.splitlines() if line.startswith("flt_"))
    info = run("db", "info", "--json")
    assert info.returncode == 0 and '"fleets": 1' in info.stdout and where in info.stdout
    serve = subprocess.Popen([sys.executable, "-m", "fleetctl", "serve", "--port", "0"], stdout=subprocess.PIPE,
                             text=True, env=env, cwd=tmp_path)
    try:
        line = serve.stdout.readline()
        assert f"(db: {where}," in line, line
        url = re.search(r"serving on (http://\S+)", line).group(1)
        login = run("login", "--url", url, "--token", token, "--profile", "acme")
        assert login.returncode == 0 and "acme/owner" in login.stdout, login.stderr
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=20)
