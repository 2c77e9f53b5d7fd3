"""Bounded answers: every list carries `preview` (first 280 characters) and `body_chars`, never a whole
body; one item's GET has the whole body. Checked over HTTP and through the CLI's --json."""

from __future__ import annotations

# Characters, not bytes: a preview never cuts a character in half and body_chars counts characters.
LONG = "é" + "x" * 298 + "🚀" * 700  # 999 characters, more than 1,700 bytes of UTF-8
PREVIEW = LONG[:280]


def listed_ok(item: dict, chars: int = len(LONG)) -> None:
    assert "body" not in item, sorted(item)
    assert item["preview"] == PREVIEW and item["body_chars"] == chars, (item["preview"][:20], item["body_chars"])


def test_every_list_carries_previews_and_one_get_the_whole_body(make_fleet):
    fleet = make_fleet("prev")
    a = fleet.member("alice", domains=["infra"])
    b = fleet.member("bob", role="reviewer", domains=["infra"])

    entry = a.client.post("/v1/knowledge", {"kind": "tip", "title": "rocket tip", "body": LONG})
    assert entry["body"] == LONG  # the object just written is whole
    listed_ok(a.client.get("/v1/knowledge")["items"][0])
    listed_ok(a.client.get("/v1/knowledge/search", q="rocket")["items"][0])
    newer = a.client.post("/v1/knowledge", {"kind": "tip", "title": "rocket 2", "body": LONG,
                                            "supersedes": entry["id"]})
    for link in a.client.get(f"/v1/knowledge/{newer['id']}/chain")["items"]:
        listed_ok(link)
    assert a.client.get(f"/v1/knowledge/{entry['id']}")["body"] == LONG

    task = a.client.post("/v1/tasks", {"title": "long task", "body": LONG, "assign": "bob"})
    for path in ("/v1/tasks", "/v1/tasks?mine=true", "/v1/tasks/ready"):
        item = next(t for t in b.client.get(path)["items"] if t["id"] == task["id"])
        listed_ok(item)
        assert "history" not in item and item["history_count"] == 2  # create, assign
    shown = b.client.get(f"/v1/tasks/{task['id']}")
    assert shown["body"] == LONG and [h["action"] for h in shown["history"]] == ["create", "assign"]

    sent = a.client.post("/v1/messages", {"recipients": ["bob"], "subject": "long", "body": LONG})
    listed_ok(b.client.get("/v1/messages")["items"][0])
    listed_ok(b.client.get(f"/v1/messages/{sent['id']}/thread")["items"][0])
    assert b.client.get(f"/v1/messages/{sent['id']}")["body"] == LONG

    research = a.client.post("/v1/research", {"title": "long research", "confidence": 0.5, "body": LONG,
                                              "reviewers": ["bob"]})
    b.client.post(f"/v1/research/{research['id']}/reviews", {"verdict": "approve", "comment": "fine"})
    item = b.client.get("/v1/research")["items"][0]
    listed_ok(item)
    assert "reviews" not in item and item["review_count"] == 1
    whole = b.client.get(f"/v1/research/{research['id']}")
    assert whole["body"] == LONG and whole["reviews"][0]["comment"] == "fine"

    a.http("PUT", "/v1/documents/spec", {"body": "short"})
    a.http("PUT", "/v1/documents/spec", {"body": LONG})
    listed_ok(a.client.get("/v1/documents")["items"][0])  # the latest version's body
    versions = a.client.get("/v1/documents/spec/versions")["items"]
    listed_ok(versions[0])
    assert versions[1]["preview"] == "short" and versions[1]["body_chars"] == 5
    assert a.client.get("/v1/documents/spec")["body"] == LONG


def test_cli_json_lists_carry_previews(make_fleet):
    fleet = make_fleet("prevcli")
    a = fleet.member("alice")
    a.client.post("/v1/knowledge", {"kind": "gotcha", "title": "cli", "body": LONG})
    a.client.post("/v1/tasks", {"title": "cli task", "body": LONG})
    a.client.post("/v1/messages", {"recipients": ["alice"], "subject": "self", "body": LONG})
    for args in (("knowledge", "list"), ("task", "list"), ("msg", "inbox")):
        result = a.cli(*args, "--json")
        assert result.exit_code == 0, result.stderr
        listed_ok(result.json()["items"][0])
    thread = a.cli("msg", "thread", str(a.client.get("/v1/messages")["items"][0]["id"]))
    assert PREVIEW in thread.stdout and "999 characters in all: fleetctl msg show" in thread.stdout


def test_a_short_body_is_its_own_preview(make_fleet):
    fleet = make_fleet("prevshort")
    a = fleet.member("alice")
    a.client.post("/v1/knowledge", {"kind": "tip", "title": "empty"})
    a.client.post("/v1/knowledge", {"kind": "tip", "title": "short", "body": "**hi**"})
    items = a.client.get("/v1/knowledge")["items"]
    assert [(i["preview"], i["body_chars"]) for i in items] == [("**hi**", 6), ("", 0)]
