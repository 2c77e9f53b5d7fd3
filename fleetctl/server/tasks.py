"""HTTP routes of the tasks primitive."""

from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/v1")
