"""Who sees a task (the SQL condition, the check of one task, the lookup) and its history rows.

Shared by `tasks`, `task_actions` and `research`, which links research to tasks.
"""

from __future__ import annotations

from fleetctl.models.core import Member
from fleetctl.models.tasks import Task, TaskHistory
from fleetctl.services import visibility as access

KIND = "task"


def visible(member: Member):
    """SQL condition: tasks `member` may see."""
    return access.visible_clause(Task, KIND, member) | (Task.assignee == member.id)


def can_see(member: Member, task: Task) -> bool:
    """The rule of `visible` for one loaded task."""
    return access.can_see(member, task) or task.assignee_id == member.id


def get_task(member: Member, task_id: int) -> Task:
    """One task the member may see, else 404 exactly as if it did not exist."""
    return access.get_visible(Task, task_id, member, "task", can_see)


def add_history(task: Task, member: Member, action: str, from_state: str | None, note: str = "") -> None:
    """Append one history entry (inside the caller's write transaction)."""
    TaskHistory.create(task=task.id, member=member.id, who=member.address, action=action,
                       from_state=from_state, to_state=task.state, note=note or "")
