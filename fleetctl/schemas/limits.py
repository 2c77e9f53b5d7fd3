"""Bounds shared by the models and by clients that must not import pydantic (the CLI, the daemon, MCP stdio)."""

MIN_MAX_CHARS = 200
MAX_MAX_CHARS = 1_000_000  # the one upper bound of a wake's prompt budget (server, CLI, daemon, MCP)
DEFAULT_MAX_CHARS = 8000
MAX_BODY_BYTES = 1024 * 1024  # a request body, and a text field's UTF-8 size (bodies of every primitive)
