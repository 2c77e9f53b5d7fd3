"""HTTP routes of the research primitive."""

from flask import Blueprint

bp = Blueprint("research", __name__, url_prefix="/v1")
