"""The rerunnable fleetctl benchmark (`python bench/run.py`)."""
