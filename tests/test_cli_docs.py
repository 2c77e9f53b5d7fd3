"""Generated completions and man page are current, and the man page covers the whole CLI."""

from __future__ import annotations

from pathlib import Path

import typer

from fleetctl.cli import docgen
from fleetctl.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def test_generated_files_are_current(tmp_path):
    stale = [str(path.relative_to(tmp_path)) for path, text in docgen.generate(tmp_path).items()
             if not (ROOT / path.relative_to(tmp_path)).exists()
             or (ROOT / path.relative_to(tmp_path)).read_text() != text]
    assert not stale, f"regenerate with `python -m fleetctl.cli.docgen`: {stale}"


def test_completion_scripts_are_real_scripts():
    assert "complete -o default -F _fleetctl_completion fleetctl" in docgen.completion("bash")
    assert "#compdef fleetctl" in docgen.completion("zsh")
    assert "complete --command fleetctl" in docgen.completion("fish")


def test_manpage_lists_every_command_option_env_and_exit_code():
    page = docgen.manpage()
    root = typer.main.get_command(app)
    for path, cmd in docgen._walk(root, []):
        if path and not getattr(cmd, "commands", None):
            assert ".SS " + docgen._roff(" ".join(path)) in page, path
            for param in cmd.params:
                if getattr(param, "param_type_name", "") != "option":
                    assert param.name.upper() in page, (path, param.name)
                    continue
                for opt in getattr(param, "opts", []):
                    if opt not in ("--help", "-h"):
                        assert docgen._roff(opt) in page, (path, opt)
    for name, _ in docgen.ENVIRONMENT:
        assert name in page
    for code, _ in docgen.EXIT_CODES:
        assert f".B {code}\n" in page
