"""The domain: plain functions over models. No Flask, no Typer.

What a service returns: a function that answers a caller (what a route, an MCP tool or a console page
calls: create, show, list, act, ...) returns plain JSON-ready data shaped as the API answers it, a dict or
a page `{"items", "next"}`, so every transport sends it as it is (`documents.put` adds whether it created).
Rows are for the services themselves: lookups (`get*`, `resolve`, `visible`, `can_see`) return model rows
to other services, and so do the operator's local functions (`members.create_fleet`, `members.set_quota`):
the local command, fixture or benchmark that runs them goes on with the fleet and owner rows
(tests/unit/test_service_answers.py checks the rule). A service speaks to HTTP, MCP and CLI callers
alike: its messages name fields, never one client's flags.
"""
