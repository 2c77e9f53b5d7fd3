"""MCP for fleetctl: the tools (tools.py, runs.py), the JSON-RPC protocol (protocol.py) and the stdio
transport of `fleetctl mcp` (stdio.py). The HTTP transport at `/mcp` lives in `fleetctl/server/mcp_http.py`
and uses the same tools and protocol.

Nothing here imports the `mcp` SDK at run time: importing any part of it (even `mcp.server.lowlevel`)
runs the package's `__init__`, which loads the whole client and server stack (about 1 s, most of the
startup of `fleetctl mcp`), and its `mcp_types` models alone take 0.3-0.5 s. The protocol subset a tool
server needs (initialize, ping, tools/list, tools/call) is small; the tests drive both transports with
the official SDK's clients, which validate every answer against the SDK's own models.
"""
