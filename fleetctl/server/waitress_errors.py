"""Requests waitress refuses itself (malformed, oversized headers or body) answered as problem+json."""

from __future__ import annotations

import json

from waitress.task import ErrorTask

from fleetctl.errors import FleetError


class ProblemErrorTask(ErrorTask):
    """waitress's own refusals (400, 413, 431, 501) as application/problem+json."""

    def execute(self):
        error = self.request.error
        problem = FleetError(str(error.body).strip().splitlines()[0] if error.body else error.reason)
        problem.http_status, problem.title = error.code, error.reason
        body = json.dumps(problem.problem()).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/problem+json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
