"""HTTP routes of the wake primitive."""

from flask import Blueprint

bp = Blueprint("wake", __name__, url_prefix="/v1")
