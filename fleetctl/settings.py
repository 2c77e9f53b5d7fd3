"""Every setting of fleetctl in one list (name, default, environment variable, help), and their resolution.

The list drives `config.py` and `ServerSettings` (precedence: flag > environment > default), the options
of `fleetctl serve` (help text, env var, bounds), the README's table and the man page's ENVIRONMENT
(`python -m fleetctl.cli.docgen`); a test fails when a FLEET_ variable read anywhere is missing here.
Nothing is read at import time: a value is resolved when it is asked for. Standard library only (the
CLI imports this module on every start).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

from fleetctl.errors import Invalid


@dataclass(frozen=True)
class Setting:
    """One setting: its environment variable, default, help, and the bounds of a number."""

    name: str
    env: str
    default: object
    help: str
    scope: str = "server"  # "client": any command; "server": serve; "local": serve and the local commands
    option: str | None = None  # the flag that sets it too (before the command for client settings)
    kind: type = str
    low: float | None = None
    high: float | None = None
    clamp: bool = False  # out-of-range values are brought into range instead of refused
    shown_default: str | None = None  # how the docs name a default computed at run time

    def parse(self, raw: str) -> object:
        """The value of the environment text `raw`; a bad number is one clear error (exit 2 / 422)."""
        if self.kind is str:
            return raw
        try:
            value = self.kind(raw)
        except ValueError:
            raise Invalid(f"{self.env} must be {self._wanted()}, not {raw!r}") from None
        return self.bounded(value)

    def bounded(self, value):
        """`value` kept within bounds (clamped settings) or refused when outside them."""
        if value is None or self.kind is str:
            return value
        low = self.low if self.low is not None else value
        high = self.high if self.high is not None else value
        if self.clamp:
            return self.kind(min(high, max(low, value)))
        if not low <= value <= high:
            raise Invalid(f"{self.env} must be {self._wanted()}, not {value!r}")
        return value

    def _wanted(self) -> str:
        noun = "a whole number" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{noun} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{noun} of at least {self.low:g}"
        return noun

    @property
    def default_text(self) -> str:
        """The default as the docs show it."""
        if self.shown_default is not None:
            return self.shown_default
        if self.default is None or self.default == "":
            return "unset"
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)


SETTINGS: tuple[Setting, ...] = (
    # -- any command (the client) ------------------------------------------------------------------
    Setting("url", "FLEET_URL", "http://127.0.0.1:8700", "Server URL.", scope="client", option="--url"),
    Setting("token", "FLEET_TOKEN", None, "Bearer token of the acting member.", scope="client", option="--token"),
    Setting("profile", "FLEET_PROFILE", None, "Profile written by `fleetctl login`.", scope="client",
            option="--profile", shown_default="the current profile"),
    Setting("output", "FLEET_OUTPUT", "", "Set to json to make --json the default.", scope="client"),
    Setting("timeout", "FLEET_TIMEOUT", 30.0, "Seconds a client waits for the server's answer.", scope="client",
            option="--timeout", kind=float, low=0.1, high=86400),
    Setting("debug", "FLEET_DEBUG", "", "Set (to anything) to show tracebacks of unexpected errors, like --debug.",
            scope="client"),
    Setting("config_dir", "FLEET_CONFIG_DIR", None, "Directory of profiles.json.", scope="client",
            shown_default="the user config dir"),
    Setting("data_dir", "FLEET_DATA_DIR", None, "Directory of the default database and the quickstart files.",
            scope="client", shown_default="the user data dir"),
    Setting("no_color", "NO_COLOR", "", "Set (to anything) for no colours in human output.", scope="client"),
    Setting("wake_cursor", "FLEET_WAKE_CURSOR", "", "Set by `fleetctl daemon` for its command: `wake`, "
            "`wake --hook` and MCP's fleet_wake then only peek (the daemon acknowledges).", scope="client"),
    # -- serve and the local commands ---------------------------------------------------------------
    Setting("db", "FLEET_DB", None, "Database of serve and the local commands: a SQLite path or a "
            "postgresql:// URL.", scope="local", option="--db", shown_default="fleet.db in the data dir"),
    Setting("host", "FLEET_HOST", "127.0.0.1", "Address serve listens on.", option="--host"),
    Setting("port", "FLEET_PORT", 8700, "Port serve listens on (0 picks a free one).", option="--port", kind=int,
            low=0, high=65535),
    Setting("threads", "FLEET_THREADS", 8, "Worker threads of serve.", option="--threads", kind=int, low=1,
            high=256),
    Setting("trusted_proxy", "FLEET_TRUSTED_PROXY", None, "Address of a load balancer whose X-Forwarded-For "
            "names the client (for the audit log and the per-address limit on failed logins) and whose "
            "X-Forwarded-Proto says https (the console's cookie is then Secure).", option="--trusted-proxy"),
    Setting("retention", "FLEET_RETENTION", "90d", "Prune audit records, delivered change-log entries and read "
            "message deliveries older than this, a minute after serve starts and then daily, in the "
            "background ('off' never prunes).", option="--retention"),
    Setting("connection_limit", "FLEET_CONNECTION_LIMIT", 1000, "Open connections served at once, waiting ones "
            "(--max-waiters) included; more wait to be accepted.", option="--connection-limit", kind=int, low=1),
    Setting("request_timeout", "FLEET_REQUEST_TIMEOUT", 30.0, "Seconds a client has to send a whole request "
            "(headers and body); slower ones are dropped.", option="--request-timeout", kind=float, low=0.5),
    Setting("max_waiters", "FLEET_MAX_WAITERS", 256, "Live wake: at most N requests held waiting for news "
            "(GET /v1/wake?wait=S), on threads of their own; over the bound a wait answers at once. 0 turns "
            "waiting off.", option="--max-waiters", kind=int, low=0, high=10_000),
    Setting("auth_cache_ttl", "FLEET_AUTH_CACHE_TTL", 30.0, "Seconds a server trusts a verified token before "
            "checking it again (the bound on a revocation reaching other servers; values above 30 are capped).",
            kind=float, low=0, high=30, clamp=True),
    Setting("auth_failures_per_minute", "FLEET_AUTH_FAILURES_PER_MINUTE", 60, "Failed authentications allowed "
            "per client address and minute.", kind=int, low=1),
    Setting("rate_sync_ms", "FLEET_RATE_SYNC_MS", 300, "Milliseconds between the syncs of shared rate-limit "
            "counters of servers on PostgreSQL (kept between 50 and 5000).", kind=int, low=50, high=5000,
            clamp=True),
    Setting("prune_delay", "FLEET_PRUNE_DELAY", 60.0, "Seconds from serve start to its first prune.", kind=float,
            low=0, clamp=True),
    Setting("bcrypt_rounds", "FLEET_BCRYPT_ROUNDS", 10, "bcrypt cost of new tokens (at least 4; tests use 4).",
            scope="local", kind=int, low=4, high=31, clamp=True),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
# Variables fleetctl sets for the commands it runs, never reads: documented with the daemon, not settings.
EXPORTED = ("FLEET_WAKE_PROMPT", "FLEET_WAKE_FILE")


def from_env(name: str, environ: Mapping[str, str] | None = None) -> object:
    """The value the environment gives setting `name`, or None when its variable is unset or empty."""
    setting = BY_NAME[name]
    raw = (os.environ if environ is None else environ).get(setting.env)
    return None if raw is None or raw == "" else setting.parse(raw)


def get(name: str, flag: object = None, environ: Mapping[str, str] | None = None) -> object:
    """The value of setting `name`: the flag when given, else its environment variable, else its default."""
    if flag is not None:
        return BY_NAME[name].bounded(flag)
    value = from_env(name, environ)
    return BY_NAME[name].default if value is None else value


def default(name: str):
    """The default the list declares for `name`."""
    return BY_NAME[name].default


@dataclass(frozen=True)
class ServerSettings:
    """The resolved settings of one server (`create_app(settings)`); build it with `server_settings()`."""

    db: str | None = default("db")
    host: str = default("host")
    port: int = default("port")
    threads: int = default("threads")
    trusted_proxy: str | None = default("trusted_proxy")
    retention: str = default("retention")
    connection_limit: int = default("connection_limit")
    request_timeout: float = default("request_timeout")
    max_waiters: int = default("max_waiters")
    auth_cache_ttl: float = default("auth_cache_ttl")
    auth_failures_per_minute: int = default("auth_failures_per_minute")
    rate_sync_ms: int = default("rate_sync_ms")
    prune_delay: float = default("prune_delay")
    bcrypt_rounds: int = default("bcrypt_rounds")


def server_settings(environ: Mapping[str, str] | None = None, **flags: object) -> ServerSettings:
    """Resolve every server setting: `flags` (None: not given) > the environment > the list's default."""
    names = [f.name for f in fields(ServerSettings)]
    unknown = set(flags) - set(names)
    if unknown:
        raise TypeError(f"unknown server settings: {sorted(unknown)}")
    return ServerSettings(**{n: get(n, flags.get(n), environ) for n in names})
