"""HTTP routes of the knowledge primitive."""

from flask import Blueprint

bp = Blueprint("knowledge", __name__, url_prefix="/v1")
