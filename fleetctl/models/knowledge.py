"""Models of the knowledge primitive."""

MODELS: list = []
