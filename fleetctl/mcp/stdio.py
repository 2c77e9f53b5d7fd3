"""The stdio transport of `fleetctl mcp`: newline-delimited JSON-RPC on stdin/stdout, one message at a time.

Tools act through the HTTP client with the caller's credentials; the fleet server enforces every rule.
"""

from __future__ import annotations

import json
import os
import sys
from typing import BinaryIO

from fleetctl.client import Client
from fleetctl.mcp import protocol, tools


def run(client: Client, stdin: BinaryIO, stdout: BinaryIO, wake_peek_only: bool = False) -> None:
    """Answer every message read from `stdin` on `stdout` until end of input."""

    def call_tool(name: str, args: dict) -> dict:
        return tools.call(client, name, args, wake_peek_only=wake_peek_only)

    for line in stdin:
        if not line.strip():
            continue
        try:
            payload = json.loads(line)
        except ValueError as exc:
            reply = protocol.error(None, protocol.PARSE_ERROR, f"invalid JSON: {str(exc)[:120]}")
        else:
            reply = protocol.answer_all(payload, call_tool)
        if reply is not None:
            stdout.write(protocol.encode(reply) + b"\n")
            stdout.flush()


def serve(url: str, token: str | None) -> None:
    """Serve MCP on stdin/stdout until the client closes the connection. Inside a daemon's command
    (FLEET_WAKE_CURSOR set) fleet_wake only peeks: the daemon acks the wake when the command succeeds."""
    client = Client(url, token)
    if sys.stdin.isatty():
        print(f"fleetctl mcp: stdio MCP server for {url} (speak JSON-RPC on stdin; Ctrl-C to stop)",
              file=sys.stderr)
    try:
        run(client, sys.stdin.buffer, sys.stdout.buffer, wake_peek_only=bool(os.environ.get("FLEET_WAKE_CURSOR")))
    except BrokenPipeError:
        pass  # the client went away
    finally:
        client.close()
