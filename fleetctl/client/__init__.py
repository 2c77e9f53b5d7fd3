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


class _Space:
    """A namespace attribute, built on each access: a Client then holds no reference cycle, so a dropped
    client closes its connection at once (a cycle kept sockets open until the garbage collector ran)."""

    def __init__(self, namespace: type) -> None:
        self.namespace = namespace

    def __get__(self, client: Transport | None, owner: type | None = None):
        return self if client is None else self.namespace(client)


class Client(Transport):
    """A fleetctl server's API: `system`, `members`, `knowledge`, `tasks`, `messages`, `research`,
    `documents`, `wake`, `audit` (and the raw `get`/`post`/`put`/`patch`/`request` beneath them)."""

    system: System = _Space(System)
    members: Members = _Space(Members)
    knowledge: Knowledge = _Space(Knowledge)
    tasks: Tasks = _Space(Tasks)
    messages: Messages = _Space(Messages)
    research: Research = _Space(Research)
    documents: Documents = _Space(Documents)
    wake: Wake = _Space(Wake)
    audit: Audit = _Space(Audit)
