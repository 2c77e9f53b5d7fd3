"""Knowledge search over more matches than one ranking window: order and paging (timing is bench/'s)."""

from __future__ import annotations

import secrets

import pytest
from conftest import Actor, FleetHandle

from fleetctl.services.knowledge_feed import SEARCH_WINDOW

ENTRIES = 2_600  # two of every three match: about 1.7 windows of matches
NOISE = 300  # matching entries of another fleet, written between the first fleet's


def _seed(owner, word: str) -> dict[int, tuple[int, str, list[str]]]:
    """Entries of `fleet` written in bulk: id -> (times `word` occurs, kind, domains) of each match.
    Every body has the same length, so more occurrences is a strictly better match on both engines."""
    from fleetctl import db
    from fleetctl.models.core import ItemDomain
    from fleetctl.models.knowledge import Knowledge

    kinds = ("tip", "gotcha", "fix")
    rows = []
    for k in range(ENTRIES):
        hits = 0 if k % 3 == 0 else 1 + (k * 7) % 4
        domains = [f"d{k % 2}"]
        rows.append({"fleet": owner.fleet_id, "author": owner.id, "kind": kinds[k % 3], "title": f"entry {k}",
                     "body": " ".join([word] * hits + ["filler"] * (4 - hits)), "domains": domains,
                     "tagged": True, "visibility": "fleet", "state": "current"})
    matches = {}
    with db.write():
        for start in range(0, len(rows), 200):
            ids = [Knowledge.insert(**r).execute() for r in rows[start:start + 200]]
            for i, r in zip(ids, rows[start:start + 200], strict=True):
                ItemDomain.insert(kind="knowledge", item_id=i, domain=r["domains"][0]).execute()
                hits = r["body"].split().count(word)
                if hits:
                    matches[i] = (hits, r["kind"], r["domains"])
    return matches


def _expected(matches: dict[int, tuple[int, str, list[str]]]) -> list[int]:
    """Newest window of SEARCH_WINDOW matches first; within a window, most occurrences first, then newest."""
    newest = sorted(matches, reverse=True)
    order = []
    for start in range(0, len(newest), SEARCH_WINDOW):
        order += sorted(newest[start:start + SEARCH_WINDOW], key=lambda i: (-matches[i][0], -i))
    return order


def _search(actor, **params) -> dict:
    return actor.client.get("/v1/knowledge/search", **params)


def _fleet(server, prefix: str):
    """A new fleet (its handle) and its owner (the member row)."""
    from fleetctl.services import members

    fleet, owner, token = members.create_fleet(f"{prefix}-{secrets.token_hex(3)}", None)
    return FleetHandle(fleet.name, Actor(owner.address, token, server.url, members.to_dict(owner)), server.url), owner


@pytest.fixture(scope="module")
def corpus(server):
    """A fleet with about 1,700 matches of a word of its own, and another fleet's matches between them."""
    word = "zq" + secrets.token_hex(4)
    (fleet, owner), (_, other) = _fleet(server, "search"), _fleet(server, "noise")
    _seed_noise(other, word)
    matches = _seed(owner, word)
    _seed_noise(other, word)
    return fleet, word, matches


def _seed_noise(owner, word: str) -> None:
    from fleetctl import db
    from fleetctl.models.knowledge import Knowledge

    with db.write():
        Knowledge.insert_many([{"fleet": owner.fleet_id, "author": owner.id, "kind": "tip", "title": f"noise {k}",
                                "body": f"{word} {word} {word} {word}", "domains": [], "tagged": False,
                                "visibility": "fleet", "state": "current"} for k in range(NOISE)]).execute()


def test_pages_follow_the_windows_in_order(corpus):
    fleet, word, matches = corpus
    expected = _expected(matches)
    assert len(expected) > SEARCH_WINDOW + 500
    for after, limit in ((None, 200), (SEARCH_WINDOW - 3, 7), (SEARCH_WINDOW, 50), (len(expected) - 5, 10)):
        page = _search(fleet.owner, q=word, limit=limit, **({"after": after} if after is not None else {}))
        start = after or 0
        assert [e["id"] for e in page["items"]] == expected[start:start + limit], (after, limit)
        assert page["next"] == (start + limit if start + limit < len(expected) else None)


def test_walking_every_page_returns_each_match_once(corpus):
    fleet, word, matches = corpus
    seen, after = [], None
    while True:
        page = _search(fleet.owner, q=word, limit=200, **({"after": after} if after is not None else {}))
        seen += [e["id"] for e in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == _expected(matches)


def test_filters_apply_before_the_windows(corpus):
    fleet, word, matches = corpus
    tips_in_d1 = {i: m for i, m in matches.items() if m[1] == "tip" and m[2] == ["d1"]}
    gotchas = {i: m for i, m in matches.items() if m[1] == "gotcha"}
    page = _search(fleet.owner, q=word, kind="tip", domain="d1", limit=200)
    assert [e["id"] for e in page["items"]] == _expected(tips_in_d1)[:200]
    page = _search(fleet.owner, q=word, kind="gotcha", limit=100, after=SEARCH_WINDOW // 2 + 400)
    start = SEARCH_WINDOW // 2 + 400
    assert [e["id"] for e in page["items"]] == _expected(gotchas)[start:start + 100]


def test_a_small_corpus_is_ranked_as_a_whole(make_fleet):
    fleet = make_fleet("small")
    word = "zq" + secrets.token_hex(4)
    ids = {}
    for hits in (1, 3, 2, 3, 1):
        body = " ".join([word] * hits + ["filler"] * (4 - hits))
        ids[fleet.owner.client.post("/v1/knowledge", {"kind": "tip", "title": "t", "body": body})["id"]] = hits
    want = sorted(ids, key=lambda i: (-ids[i], -i))
    assert [e["id"] for e in _search(fleet.owner, q=word)["items"]] == want
