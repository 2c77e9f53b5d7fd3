"""Models of the documents primitive."""

MODELS: list = []
