"""Models of the tasks primitive."""

MODELS: list = []
