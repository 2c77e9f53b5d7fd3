"""HTTP routes of the documents primitive."""

from flask import Blueprint

bp = Blueprint("documents", __name__, url_prefix="/v1")
