"""The request models on their own: valid and invalid bodies, integral floats, NUL bytes, one max_chars bound."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fleetctl.errors import Invalid
from fleetctl.schemas import agents, documents, knowledge, limits, messages, research, tasks, wake
from fleetctl.server.validation import check

VALID = [
    (knowledge.PublishKnowledge, {"kind": "tip", "title": "Use WAL", "domains": ["Infra", "db"], "supersedes": None}),
    (messages.SendMessage, {"recipients": ["dev", "ops/boss", " y "], "subject": "hi", "reply_to": 3}),
    (tasks.CreateTask, {"title": "Fix deploy", "depends_on": [1, 2.0], "priority": "high", "assign": "acme/dev"}),
    (tasks.TaskAction, {"action": "submit", "links": ["research:4", "doc:acme/spec"], "version": 2}),
    (research.PublishResearch, {"title": "Why", "confidence": 1, "sources": ["https://x"], "task": None}),
    (research.ResearchContent, {}),
    (documents.PutDocument, {"body": "# spec", "base_version": 0}),
    (agents.Register, {"name": "bot-1", "role": "agent", "rate_limit": 600.0, "allow_fleets": ["labs"]}),
    (agents.MemberChanges, {"cross_fleet": True}),
    (wake.Advance, {"max_chars": limits.MAX_MAX_CHARS, "commands": "mcp"}),
    (wake.Ack, {"cursor": "12:1.2.3.4.5.6:7.8.9.10.11.12"}),
]

INVALID = [
    (knowledge.PublishKnowledge, {"kind": "rumour", "title": "x"}, "must be one of: tip, gotcha, breaking, fix"),
    (knowledge.PublishKnowledge, {"kind": "tip", "title": "   "}, "title must not be empty"),
    (knowledge.PublishKnowledge, {"kind": "tip", "title": "two\nlines"}, "title must be one line"),
    (knowledge.PublishKnowledge, {"kind": "tip", "title": "x", "domains": ["Not A Tag"]},
     "invalid domain tag 'Not A Tag'"),
    (knowledge.PublishKnowledge, {"kind": "tip", "title": "x", "pinned": "yes"}, "'pinned' must be of type boolean"),
    (knowledge.PublishKnowledge, {"kind": "tip", "title": "x", "author": "a"}, "unknown field(s): author"),
    (knowledge.PublishKnowledge, {"title": "x"}, "field 'kind' is required"),
    (messages.SendMessage, {"recipients": [], "subject": "s"}, "'recipients' needs at least 1 item"),
    (messages.SendMessage, {"recipients": ["a/b/c"], "subject": "s"}, "items of 'recipients'"),
    (messages.SendMessage, {"recipients": ["y"], "subject": "s", "reply_to": "1"}, "must be of type integer"),
    (tasks.CreateTask, {"title": "x", "depends_on": [0]}, "items of 'depends_on' must be at least 1"),
    (tasks.CreateTask, {"title": "x", "depends_on": [True]}, "must be of type integer"),
    (tasks.CreateTask, {"title": "x" * 301}, "is longer than 300 characters"),
    (research.PublishResearch, {"title": "x", "confidence": 1.5}, "'confidence' must be at most 1"),
    (research.PublishResearch, {"title": "x", "confidence": float("nan")}, "'confidence'"),
    (research.PublishResearch, {"title": "x", "confidence": True}, "must be of type number"),
    (agents.Register, {"name": "Bad Name"}, "'name' must be a lowercase slug"),
    (agents.Register, {"name": "bot", "rate_limit": 0}, "'rate_limit' must be at least 1"),
    (agents.MemberChanges, {"role": None}, "'role' must not be null"),
    (wake.Advance, {"max_chars": limits.MAX_MAX_CHARS + 1}, f"must be at most {limits.MAX_MAX_CHARS}"),
    (wake.Advance, {"max_chars": 10}, f"must be at least {limits.MIN_MAX_CHARS}"),
    (wake.Ack, {"cursor": "12"}, "malformed wake cursor"),
    (documents.PutDocument, {"title": "x"}, "field 'body' is required"),
]


@pytest.mark.parametrize(("model", "body"), VALID, ids=lambda v: getattr(v, "__name__", ""))
def test_valid_bodies_pass(model, body):
    assert set(check(model, body)) == set(body)


@pytest.mark.parametrize(("model", "body", "words"), INVALID, ids=lambda v: getattr(v, "__name__", ""))
def test_invalid_bodies_are_one_clear_line(model, body, words):
    with pytest.raises(Invalid) as refused:
        check(model, body)
    assert words in refused.value.detail and "\n" not in refused.value.detail, refused.value.detail


@pytest.mark.parametrize("value", [817.0, 1e3, -0.0 + 5])
def test_integral_floats_are_integers(value):
    assert check(tasks.TaskAction, {"action": "claim", "version": value})["version"] == int(value)
    assert type(check(tasks.TaskAction, {"action": "claim", "version": value})["version"]) is int


@pytest.mark.parametrize("value", [817.5, "817", True, float("inf"), None])
def test_other_numbers_strings_and_booleans_are_not_integers(value):
    with pytest.raises(Invalid, match="'version'"):
        check(tasks.TaskAction, {"action": "claim", "version": value})


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfff"])
def test_nul_bytes_and_lone_surrogates_are_refused_everywhere(text):
    for model, body in ((knowledge.PublishKnowledge, {"kind": "tip", "title": "t", "body": text}),
                        (messages.SendMessage, {"recipients": ["y"], "subject": text}),
                        (tasks.TaskAction, {"action": "cancel", "reason": text})):
        with pytest.raises(Invalid, match="without NUL bytes|must not be empty"):
            check(model, body)


def test_confidence_keeps_six_decimals_so_postgresql_real_never_underflows():
    body = {"title": "x", "confidence": 2.2250738585072014e-308}
    assert check(research.PublishResearch, body)["confidence"] == 0.0
    assert check(research.PublishResearch, {"title": "x", "confidence": 0.33600714363043466})["confidence"] == 0.336007


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(Invalid, match="must be a JSON object"):
        check(knowledge.PublishKnowledge, ["kind", "tip"])


def test_query_strings_are_parsed_from_text():
    from werkzeug.datastructures import MultiDict

    from fleetctl.server.validation import parse_query, query_fields

    fields = query_fields(tasks.TaskQuery)
    args = MultiDict([("state", "open"), ("state", "done"), ("mine", "true"), ("limit", "5"), ("other", "x")])
    assert parse_query(args, tasks.TaskQuery, fields) == {"state": ["open", "done"], "mine": True, "limit": 5}
    with pytest.raises(Invalid, match="query parameter 'limit' must be of type integer"):
        parse_query(MultiDict([("limit", "abc")]), tasks.TaskQuery, fields)
    with pytest.raises(Invalid, match="query parameter 'q' is required"):
        parse_query(MultiDict(), knowledge.SearchQuery, query_fields(knowledge.SearchQuery))
    diff = query_fields(documents.DiffQuery)
    assert parse_query(MultiDict([("from", "1"), ("to", "2")]), documents.DiffQuery, diff) == {"from": 1, "to": 2}


def test_max_chars_has_one_upper_bound():
    """The wake's body, its query, the MCP tool and the CLI options all take the bound of schemas.limits."""
    import json

    from fleetctl.mcp.tools import SCHEMAS

    for model in (wake.Advance, wake.PeekQuery):
        prop = model.model_json_schema()["properties"]["max_chars"]
        assert (prop["minimum"], prop["maximum"]) == (limits.MIN_MAX_CHARS, limits.MAX_MAX_CHARS)
    assert SCHEMAS["fleet_wake"]["properties"]["max_chars"]["minimum"] == limits.MIN_MAX_CHARS
    with pytest.raises(ValidationError):
        wake.Advance.model_validate({"max_chars": limits.MAX_MAX_CHARS + 1})
    assert json.dumps(limits.MAX_MAX_CHARS) == "1000000"
