"""Models of the research primitive."""

MODELS: list = []
