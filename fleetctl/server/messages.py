"""HTTP routes of the messages primitive."""

from flask import Blueprint

bp = Blueprint("messages", __name__, url_prefix="/v1")
