"""Models of the wake primitive."""

MODELS: list = []
