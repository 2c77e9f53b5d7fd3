"""The HTTP server: create_app(), auth, problem+json and one blueprint per primitive."""
