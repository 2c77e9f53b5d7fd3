"""The MCP protocol subset of a tool server, shared by the stdio and HTTP transports.

`answer(message, call_tool)` takes one decoded JSON-RPC message and returns the JSON-RPC answer (or None
for a notification or a response). The server holds no session state: initialize only negotiates the
protocol version, so every request stands alone (stateless HTTP behind a load balancer works).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fleetctl import __version__
from fleetctl.mcp import tools

# The revisions of the initialize handshake this server speaks, oldest to newest.
PROTOCOL_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
INSTRUCTIONS = ("Coordination hub shared with other agents and humans. Call fleet_wake first in a session "
                "to get what changed while you were away (messages, tasks, reviews, knowledge).")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602

CallTool = Callable[[str, dict], dict]


def error(ident: Any, code: int, message: str) -> dict:
    """A JSON-RPC error answer."""
    return {"jsonrpc": "2.0", "id": ident, "error": {"code": code, "message": message}}


def initialize(params: dict) -> dict:
    """The initialize result: the client's protocol version if this server speaks it, else the newest."""
    asked = params.get("protocolVersion")
    version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1]
    return {"protocolVersion": version, "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "fleet", "version": __version__}, "instructions": INSTRUCTIONS}


def answer(message: Any, call_tool: CallTool) -> dict | None:
    """The answer to one JSON-RPC message; None for notifications and for responses to us."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return error(None, INVALID_REQUEST, "not a JSON-RPC 2.0 message")
    method = message.get("method")
    if "id" not in message:
        return None  # a notification (initialized, cancelled, ...) or a response: nothing to answer
    ident = message["id"]
    if not isinstance(method, str):
        return error(ident, INVALID_REQUEST, "method must be a string")
    params = message.get("params") or {}
    if not isinstance(params, dict):
        return error(ident, INVALID_PARAMS, "params must be an object")
    if method == "initialize":
        result = initialize(params)
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": tools.DEFINITIONS}
    elif method == "tools/call":
        # A bad tool name or bad arguments are tool errors (the model can read and fix them).
        result = call_tool(params.get("name"), params.get("arguments") or {})
    else:
        return error(ident, METHOD_NOT_FOUND, f"method not found: {method}")
    return {"jsonrpc": "2.0", "id": ident, "result": result}


def encode(reply: Any) -> bytes:
    """An answer as compact UTF-8 JSON (the tools list is paid for at every start)."""
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()


def answer_all(payload: Any, call_tool: CallTool) -> Any:
    """Answer one message or a batch (a list); None when there is nothing to send back."""
    if isinstance(payload, list):
        if not payload:
            return error(None, INVALID_REQUEST, "empty batch")
        answers = [a for a in (answer(m, call_tool) for m in payload) if a is not None]
        return answers or None
    return answer(payload, call_tool)
