"""Client settings and their precedence: flags > env > profile file > defaults (the list is `settings.py`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from fleetctl import settings
from fleetctl.errors import FleetError, NotFound

DEFAULT_URL: str = settings.BY_NAME["url"].default
DEFAULT_PROFILE = "default"


def config_dir() -> Path:
    """Where the profile file lives (FLEET_CONFIG_DIR overrides the platform default)."""
    override = settings.get("config_dir")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("fleetctl"))


def data_dir() -> Path:
    """Where the default database and quickstart files live (FLEET_DATA_DIR overrides)."""
    override = settings.get("data_dir")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir("fleetctl"))


def default_db() -> str:
    """The database used by `serve` and local commands when --db is not given."""
    return settings.get("db") or str(data_dir() / "fleet.db")


def shown(url: str) -> str:
    """A database URL fit to print (a PostgreSQL password left out)."""
    if "://" not in url or "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def profiles_path() -> Path:
    return config_dir() / "profiles.json"


def load_profiles() -> dict:
    """Read the profile file; an absent file is an empty one."""
    path = profiles_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"current": None, "profiles": {}}
    except (OSError, ValueError) as exc:
        raise FleetError(f"cannot read profile file {path}: {exc}") from exc
    data.setdefault("profiles", {})
    data.setdefault("current", None)
    return data


def _write_profiles(data: dict) -> Path:
    """Replace the profile file atomically; it is created with mode 0600."""
    path = profiles_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def save_profile(name: str, url: str, token: str, make_current: bool = True, **extra: str | bool) -> Path:
    """Write (or replace) one profile; it becomes current only when `make_current` says so. `extra` keeps
    facts shown by `profile list` (the member's address; `demo` for the quickstart's)."""
    data = load_profiles()
    data["profiles"][name] = {"url": url, "token": token, **{k: v for k, v in extra.items() if v is not None}}
    if make_current:
        data["current"] = name
    return _write_profiles(data)


def use_profile(name: str | None) -> None:
    """Make `name` the current profile (None: no current profile)."""
    data = load_profiles()
    if name is not None and name not in data["profiles"]:
        raise NotFound(f"no profile named {name!r}; `fleetctl profile list` shows the saved ones")
    data["current"] = name
    _write_profiles(data)


def remove_profiles(names: list[str]) -> bool:
    """Forget these profiles; True when the current one was among them (there is then no current profile)."""
    data = load_profiles()
    missing = [n for n in names if n not in data["profiles"]]
    if missing:
        raise NotFound(f"no profile named {missing[0]!r}; `fleetctl profile list` shows the saved ones")
    for name in names:
        del data["profiles"][name]
    was_current = data["current"] in names
    if was_current:
        data["current"] = None
    _write_profiles(data)
    return was_current


def replace_token(old: str, new: str) -> list[str]:
    """Put `new` in every profile that held `old` (a rotated, now dead token); returns their names."""
    data = load_profiles()
    names = [n for n, p in data["profiles"].items() if p.get("token") == old]
    for name in names:
        data["profiles"][name]["token"] = new
    if names:
        _write_profiles(data)
    return names


@dataclass
class Settings:
    """Resolved connection settings for one CLI invocation."""

    url: str
    token: str | None
    profile: str | None
    token_from_profile: bool = False


def resolve(url: str | None = None, token: str | None = None, profile: str | None = None) -> Settings:
    """Apply the precedence rules: flags, then env, then the profile file, then defaults."""
    profile = profile or settings.from_env("profile")
    url = url or settings.from_env("url")
    token = token or settings.from_env("token")
    if url and token and not profile:
        return Settings(url=url.rstrip("/"), token=token, profile=None)
    data = load_profiles()
    name = profile or data.get("current")
    stored = data["profiles"].get(name or "", {})
    if profile and not stored:
        raise FleetError(f"no profile named {profile!r}; run `fleetctl login --profile {profile}`")
    return Settings(url=(url or stored.get("url") or DEFAULT_URL).rstrip("/"),
                    token=token or stored.get("token"), profile=name if stored else None,
                    token_from_profile=bool(stored) and not token)
