"""The domain: plain functions over models. No Flask, no Typer."""
