"""Models of the messages primitive."""

MODELS: list = []
