"""The typed HTTP client every CLI command, the daemon, the MCP tools and the quickstart use.

One namespace per primitive and one method per HTTP operation, e.g. `client.tasks.act(3, "claim",
version=2)`; each returns the decoded JSON and raises the FleetError the server answered with.
Standard library only (no pydantic, Flask or peewee), so a CLI call starts fast.
"""

from __future__ import annotations

from fleetctl.client.audit import Audit
from fleetctl.client.documents import Documents
from fleetctl.client.knowledge import Knowledge
from fleetctl.client.members import Members
from fleetctl.client.messages import Messages
from fleetctl.client.research import Research
from fleetctl.client.system import System
from fleetctl.client.tasks import Tasks
from fleetctl.client.transport import JSON, Transport, default_timeout
from fleetctl.client.wake import Wake

__all__ = ["JSON", "Client", "default_timeout"]


class Client(Transport):
    """A fleetctl server's API: `system`, `members`, `knowledge`, `tasks`, `messages`, `research`,
    `documents`, `wake`, `audit` (and the raw `get`/`post`/`put`/`patch`/`request` beneath them)."""

    def __init__(self, url: str, token: str | None = None, timeout: float | None = None) -> None:
        super().__init__(url, token, timeout)
        self.system = System(self)
        self.members = Members(self)
        self.knowledge = Knowledge(self)
        self.tasks = Tasks(self)
        self.messages = Messages(self)
        self.research = Research(self)
        self.documents = Documents(self)
        self.wake = Wake(self)
        self.audit = Audit(self)
