"""Pydantic models of every request and response body: validation, OpenAPI and MCP tool schemas come from them."""
