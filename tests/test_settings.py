"""The settings list drives config, serve's options, the README table and the man page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from fleetctl import config, settings
from fleetctl.cli import docgen
from fleetctl.cli.main import app
from fleetctl.errors import Invalid

ROOT = Path(__file__).resolve().parents[1]


def test_flag_beats_env_beats_default(monkeypatch):
    monkeypatch.delenv("FLEET_THREADS", raising=False)
    assert settings.get("threads") == 8
    monkeypatch.setenv("FLEET_THREADS", "3")  # read when asked for, not at import
    assert settings.get("threads") == 3
    assert settings.get("threads", flag=5) == 5
    assert settings.server_settings(threads=6).threads == 6
    assert settings.server_settings().threads == 3


def test_server_settings_defaults_are_the_lists():
    assert settings.server_settings(environ={}) == settings.ServerSettings()


def test_a_bad_value_is_one_clear_error_and_clamped_settings_are_clamped():
    with pytest.raises(Invalid, match=r"^FLEET_THREADS must be a whole number from 1 to 256, not 'many'$"):
        settings.server_settings(environ={"FLEET_THREADS": "many"})
    with pytest.raises(Invalid, match="FLEET_PORT must be a whole number from 0 to 65535, not 70000"):
        settings.server_settings(environ={"FLEET_PORT": "70000"})
    chosen = settings.server_settings(environ={"FLEET_AUTH_CACHE_TTL": "99", "FLEET_RATE_SYNC_MS": "1",
                                               "FLEET_BCRYPT_ROUNDS": "2"})
    assert (chosen.auth_cache_ttl, chosen.rate_sync_ms, chosen.bcrypt_rounds) == (30.0, 50, 4)


def test_config_resolves_through_the_list(monkeypatch, tmp_path):
    monkeypatch.setenv("FLEET_DATA_DIR", str(tmp_path / "data"))
    assert config.default_db() == str(tmp_path / "data" / "fleet.db")
    monkeypatch.setenv("FLEET_DB", "postgresql://db/fleet")
    assert config.default_db() == "postgresql://db/fleet"
    monkeypatch.setenv("FLEET_CONFIG_DIR", str(tmp_path / "cfg"))
    assert config.profiles_path() == tmp_path / "cfg" / "profiles.json"
    monkeypatch.setenv("FLEET_URL", "http://env:1/")
    monkeypatch.setenv("FLEET_TOKEN", "tok")
    assert (config.resolve().url, config.resolve().token) == ("http://env:1", "tok")
    assert config.resolve(url="http://flag:2").url == "http://flag:2"
    monkeypatch.delenv("FLEET_URL")
    monkeypatch.delenv("FLEET_TOKEN")
    assert config.resolve().url == settings.BY_NAME["url"].default


def test_serve_options_come_from_the_list():
    serve = typer.main.get_command(app).commands["serve"]
    options = {p.opts[0]: p for p in serve.params if getattr(p, "opts", None)}
    declared = [s for s in settings.SETTINGS if s.scope in ("server", "local") and s.option]
    assert {s.name for s in declared} >= {"db", "host", "port", "threads", "trusted_proxy", "retention",
                                           "connection_limit", "request_timeout", "max_waiters"}
    for setting in declared:
        param = options[setting.option]
        assert param.envvar == setting.env
        assert param.help.startswith(setting.help.rstrip(".")), setting.name
        if setting.default is not None:
            assert param.default == setting.default


def test_serve_takes_its_options_from_the_environment(tmp_path):
    done = subprocess.run([sys.executable, "-m", "fleetctl", "serve", "--db", str(tmp_path / "f.db")],
                          capture_output=True, text=True, timeout=60,
                          env={"FLEET_THREADS": "0", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "FLEET_THREADS" in done.stderr or "threads" in done.stderr


def _read_variables() -> set[str]:
    """Every FLEET_ variable named in fleetctl's code, less the Python names that merely look like one."""
    names, assigned = set(), set()
    for path in (ROOT / "fleetctl").rglob("*.py"):
        text = path.read_text()
        names |= set(re.findall(r"\bFLEET_[A-Z][A-Z0-9_]*[A-Z0-9]\b", text))
        assigned |= set(re.findall(r"^\s*(FLEET_[A-Z0-9_]+)\s*=", text, re.M))
    return names - assigned


def test_every_variable_the_code_names_is_a_declared_setting():
    declared = {s.env for s in settings.SETTINGS} | set(settings.EXPORTED)
    assert _read_variables() - declared == set(), "declare it in fleetctl/settings.py"


def test_the_readme_table_and_man_page_are_current_and_complete():
    readme = (ROOT / "README.md").read_text()
    assert docgen.readme(readme) == readme, "regenerate with `python -m fleetctl.cli.docgen`"
    page = (ROOT / "man" / "fleetctl.1").read_text()
    for setting in settings.SETTINGS:
        assert f"| `{setting.env}` |" in readme, setting.env
        assert f".B {setting.env}\n" in page, setting.env


def test_an_undocumented_setting_fails_the_docs_check(monkeypatch, tmp_path):
    extra = settings.Setting("shiny", "FLEET_SHINY", 1, "A setting nobody documented.", kind=int)
    monkeypatch.setattr(settings, "SETTINGS", (*settings.SETTINGS, extra))
    readme = (ROOT / "README.md").read_text()
    assert docgen.readme(readme) != readme
    assert "FLEET_SHINY" in docgen.readme(readme)


def test_the_settings_list_stays_light():
    code = ("import sys, fleetctl.settings, fleetctl.config; "
            "print(sorted(m for m in ('pydantic', 'flask', 'peewee', 'platformdirs') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_no_module_reads_the_environment_at_import():
    import ast

    found = []
    for path in (ROOT / "fleetctl").rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Expr)):
                continue
            text = ast.unparse(node)
            if "environ" in text or "getenv" in text or "settings.get(" in text or "from_env(" in text:
                found.append(f"{path.relative_to(ROOT)}: {text[:80]}")
    assert not found, found
