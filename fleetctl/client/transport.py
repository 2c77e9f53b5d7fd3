"""The client's transport: JSON over one keep-alive HTTP connection, retries, and the server's errors.

Built on the standard library's http.client so a CLI call starts fast (no heavy imports).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import socket
import time
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fleetctl import __version__
from fleetctl.errors import FleetError, Invalid, Unauthorized, Unreachable, from_status

WRITES = ("POST", "PUT", "PATCH")
ATTEMPTS = 3  # one request and up to two retries after a broken connection


def _query(params: dict) -> str:
    """The URL query string; a value that is not UTF-8 (a raw byte from the shell) is a 422-style error."""
    try:
        return urlencode(params, doseq=True)
    except UnicodeEncodeError:
        bad = [key for key, value in params.items() if not _encodes({key: value})]
        raise Invalid(f"{', '.join(bad) or 'a parameter'} is not valid UTF-8 text") from None


def _encodes(params: dict) -> bool:
    try:
        urlencode(params, doseq=True)
    except UnicodeEncodeError:
        return False
    return True


def default_timeout() -> float:
    """Seconds to wait for an answer: env FLEET_TIMEOUT (set by `--timeout` too), else 30."""
    raw = os.environ.get("FLEET_TIMEOUT") or "30"
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise Invalid(f"FLEET_TIMEOUT must be a number of seconds from 0.1 to 86400, not {raw!r}")
    return value


JSON = dict[str, Any]  # a decoded JSON object, as the server answered it


class Transport:
    """Talks JSON to a fleetctl server; raises the FleetError the server answered with."""

    def __init__(self, url: str, token: str | None = None, timeout: float | None = None) -> None:
        try:
            parts = urlsplit(url if "://" in url else f"http://{url}")
            port = parts.port
        except ValueError as exc:  # a bad port or IPv6 literal
            raise FleetError(f"invalid server URL {url!r} ({exc}); expected http://host:port") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FleetError(f"invalid server URL {url!r}; expected http://host:port")
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout if timeout is not None else default_timeout()
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = port or (443 if parts.scheme == "https" else 80)
        self._base = parts.path.rstrip("/")
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: Any = None, params: dict | None = None,
                auth: bool = True) -> Any:
        """Send one request and return the decoded JSON answer."""
        if params:
            clean = {k: v for k, v in params.items() if v is not None and v != [] and v is not False}
            if clean:
                path = f"{path}?{_query(clean)}"
        headers = {"Accept": "application/json", "User-Agent": f"fleetctl/{__version__}"}
        if auth:
            if not self.token:
                raise Unauthorized("no token: run `fleetctl login` or set FLEET_TOKEN")
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method in WRITES:
            # A fresh key per write, reused by the retries of that write: the server runs it once.
            headers["Idempotency-Key"] = secrets.token_urlsafe(24)
        status, raw = self._send(method, self._base + path, payload, headers)
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        if status >= 400:
            detail = data.get("detail") if isinstance(data, dict) else None
            extra = {k: v for k, v in data.items() if k not in ("type", "title", "status", "detail")} \
                if isinstance(data, dict) else None
            raise from_status(status, detail or f"HTTP {status}", extra)
        return data

    def _send(self, method: str, path: str, payload: bytes | None, headers: dict) -> tuple[int, bytes]:
        """Send, retrying when the connection broke before an answer arrived: a read freely, a write only
        with its Idempotency-Key (so the server answers a repeat from the first run instead of running
        it twice). A refused connection or a timeout is not retried: the server is down or busy."""
        retry = method not in WRITES or "Idempotency-Key" in headers
        for attempt in range(1, ATTEMPTS + 1):
            conn = self._connection()
            conn.timeout = self.timeout  # a timeout changed since the connection opened applies to it too
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout)
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (ConnectionRefusedError, socket.gaierror, TimeoutError, OSError,
                    http.client.HTTPException) as exc:
                self.close()
                broken = isinstance(exc, (http.client.RemoteDisconnected, http.client.IncompleteRead,
                                          BrokenPipeError, ConnectionResetError, ConnectionAbortedError))
                if retry and broken and attempt < ATTEMPTS:
                    time.sleep(0.05 * (attempt - 1))
                    continue
                raise Unreachable(f"cannot reach fleet server at {self.url}: {exc}") from exc
        raise Unreachable(f"cannot reach fleet server at {self.url}")

    def get(self, path: str, **params: Any) -> Any:
        """GET `path` with query `params` (None, [] and False are left out)."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        """POST a JSON body (an empty object by default)."""
        return self.request("POST", path, body=body if body is not None else {})

    def patch(self, path: str, body: Any) -> Any:
        """PATCH with a JSON body."""
        return self.request("PATCH", path, body=body)

    def put(self, path: str, body: Any) -> Any:
        """PUT a JSON body."""
        return self.request("PUT", path, body=body)


class Namespace:
    """The operations of one primitive, sent through the client's transport."""

    def __init__(self, http: Transport) -> None:
        self._http = http


def fields(**values: Any) -> JSON:
    """A request body of the fields given: a None value means "not given" and is left out."""
    return {key: value for key, value in values.items() if value is not None}


def item_path(collection: str, what: str, name: str, suffix: str = "") -> str:
    """The URL path of a named item under /v1/`collection`: `fleet/name` keeps its slash; an empty name
    is refused (it would address the whole collection)."""
    if not name:
        raise Invalid(f"a {what} name must not be empty")
    return f"/v1/{collection}/{quote(name, safe='/')}{suffix}"
