"""The command line: one Typer sub-app per primitive; output.py renders tables or JSON."""
