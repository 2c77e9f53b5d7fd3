"""The task state machine against DESIGN's table: every state and action, who may act, and the refusals
(checked on unsaved rows: a refused move fails before it touches the database)."""

from __future__ import annotations

import pytest

from fleetctl.errors import Conflict, Forbidden
from fleetctl.models.core import Member
from fleetctl.models.tasks import STATES, Task
from fleetctl.services import task_actions
from fleetctl.services.task_actions import NEEDS_REASON, RULES, allowed_from, apply

# DESIGN §3 "States and who may move them", written out independently of the code: (from, action, to).
TABLE = {
    ("open", "assign"): "assigned",
    ("open", "claim"): "accepted",
    ("open", "route"): "assigned",
    ("assigned", "accept"): "accepted",
    ("assigned", "reject"): "open",
    ("accepted", "start"): "in_progress",
    ("in_progress", "submit"): "in_review",  # done when the task needs no review
    ("in_review", "approve"): "done",
    ("in_review", "request-changes"): "in_progress",
    **{(state, "cancel"): "cancelled" for state in ("open", "assigned", "accepted", "in_progress", "in_review")},
}
ACTIONS = ("assign", "claim", "route", "accept", "reject", "start", "submit", "approve", "request-changes", "cancel")

HOME, AWAY = 1, 2
CREATOR, OWNER, ASSIGNEE, PEER, REVIEWER, AWAY_OWNER, AWAY_REVIEWER, HUMAN_ASSIGNEE = range(1, 9)


def member(mid: int, role: str = "agent", fleet: int = HOME, domains=()) -> Member:
    return Member(id=mid, fleet_id=fleet, name=f"m{mid}", role=role, domains=list(domains))


MEMBERS = {
    "creator": member(CREATOR),
    "owner": member(OWNER, "owner"),
    "assignee": member(ASSIGNEE, domains=["infra"]),
    "peer with a domain": member(PEER, domains=["infra", "web"]),
    "peer without one": member(PEER, domains=["web"]),
    "reviewer": member(REVIEWER, "reviewer"),
    "other fleet's owner": member(AWAY_OWNER, "owner", AWAY, ["infra"]),
    "other fleet's reviewer": member(AWAY_REVIEWER, "reviewer", AWAY),
    "human assignee": member(HUMAN_ASSIGNEE, "reviewer"),
}


def task(state: str, assignee: int | None = ASSIGNEE, domains=("infra",)) -> Task:
    return Task(id=42, fleet_id=HOME, creator_id=CREATOR, assignee_id=assignee, state=state,
                domains=list(domains), links=[], version=3, review="required")


def test_the_code_knows_exactly_the_actions_and_states_of_the_table():
    assert set(RULES) == set(ACTIONS) and set(task_actions.ACTIONS) == set(ACTIONS)
    assert set(STATES) == {s for s, _ in TABLE} | set(TABLE.values())
    assert set(NEEDS_REASON) == {"reject", "request-changes", "cancel"}


@pytest.mark.parametrize("state", STATES)
def test_each_state_allows_exactly_the_tables_actions_and_each_leads_where_the_table_says(state):
    expected = [action for action in ACTIONS if (state, action) in TABLE]
    assert sorted(allowed_from(state)) == sorted(expected)
    for action in expected:
        assert RULES[action].target == TABLE[state, action], (state, action)


def test_final_states_allow_nothing():
    assert allowed_from("done") == [] and allowed_from("cancelled") == []


@pytest.mark.parametrize("state,action", [(s, a) for s in STATES for a in ACTIONS if (s, a) not in TABLE])
def test_an_action_the_state_does_not_allow_is_a_409_listing_what_is(state, action):
    with pytest.raises(Conflict) as refused:
        apply(MEMBERS["owner"], task(state), action, member="m4" if action == "assign" else None)
    allowed = sorted(a for a in ACTIONS if (state, a) in TABLE)
    assert sorted(refused.value.extra["allowed"]) == allowed
    assert refused.value.http_status == 409
    assert f"cannot {action} task 42: it is {state}" in refused.value.detail
    if not allowed:
        assert refused.value.detail.endswith("nothing (final state)")


# (action, state, who, allowed?) for every action of the table: the members it names, and some it does not.
WHO = [
    ("assign", "open", "creator", True),
    ("assign", "open", "owner", True),
    ("assign", "open", "assignee", False),
    ("assign", "open", "reviewer", False),
    ("assign", "open", "other fleet's owner", False),
    ("route", "open", "creator", True),
    ("route", "open", "owner", True),
    ("route", "open", "peer with a domain", False),
    ("claim", "open", "peer with a domain", True),
    ("claim", "open", "other fleet's owner", True),  # domains decide; visibility is checked when loading
    ("claim", "open", "peer without one", False),
    ("accept", "assigned", "assignee", True),
    ("accept", "assigned", "creator", False),
    ("accept", "assigned", "owner", False),
    ("reject", "assigned", "assignee", True),
    ("reject", "assigned", "peer with a domain", False),
    ("start", "accepted", "assignee", True),
    ("start", "accepted", "owner", False),
    ("submit", "in_progress", "assignee", True),
    ("submit", "in_progress", "creator", False),
    ("approve", "in_review", "reviewer", True),
    ("approve", "in_review", "owner", True),
    ("approve", "in_review", "creator", False),  # an agent never passes a review gate
    ("approve", "in_review", "assignee", False),
    ("approve", "in_review", "other fleet's reviewer", False),
    ("approve", "in_review", "other fleet's owner", False),
    ("request-changes", "in_review", "reviewer", True),
    ("request-changes", "in_review", "owner", True),
    ("request-changes", "in_review", "peer with a domain", False),
    ("request-changes", "in_review", "other fleet's reviewer", False),
    ("cancel", "in_progress", "creator", True),
    ("cancel", "in_review", "owner", True),
    ("cancel", "in_progress", "assignee", False),
    ("cancel", "open", "reviewer", False),
    ("cancel", "assigned", "other fleet's owner", False),
]


@pytest.mark.parametrize("action,state,who,allowed", WHO, ids=[f"{a}-{w}" for a, _, w, _ in WHO])
def test_who_may_act(action, state, who, allowed):
    caller, row = MEMBERS[who], task(state, domains=["infra"])
    refusal = RULES[action].who(caller, row)
    assert (refusal is None) is allowed, refusal
    if not allowed:  # the same refusal through `apply`: a 403 that names the action, before any write
        with pytest.raises(Forbidden) as refused:
            apply(caller, row, action, member="m4" if action == "assign" else None)
        assert refused.value.detail == refusal.format(action=action)
        assert "{" not in refused.value.detail


def test_the_assignee_cannot_review_their_own_work_even_as_a_reviewer():
    row = task("in_review", assignee=HUMAN_ASSIGNEE)
    for action in ("approve", "request-changes"):
        refusal = RULES[action].who(MEMBERS["human assignee"], row)
        assert refusal and "cannot {action} their own work" in refusal


def test_a_task_without_domains_may_be_claimed_by_anyone_who_sees_it():
    assert RULES["claim"].who(MEMBERS["peer without one"], task("open", assignee=None, domains=())) is None
