"""Idempotency-Key: one execution per member and key, replays with Idempotent-Replayed, 422 on misuse,
sealed answers for tokens, and the client's retries through a proxy that drops answers."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from conftest import Actor, run_cli

KEY = {"Idempotency-Key": "order-42"}


def _post(actor: Actor, path: str, body=None, key: str | None = "k-1"):
    return actor.http("POST", path, body if body is not None else {},
                      headers={"Idempotency-Key": key} if key is not None else {})


def test_repeat_replays_and_changes_nothing(make_fleet):
    fleet = make_fleet("idem")
    agent = fleet.member("a")
    first = _post(agent, "/v1/messages", {"recipients": ["a"], "subject": "once"})
    again = _post(agent, "/v1/messages", {"recipients": ["a"], "subject": "once"})
    assert first.status == again.status == 201
    assert again.body == first.body and again.getheader("Idempotent-Replayed") == "true"
    assert first.getheader("Idempotent-Replayed") is None
    assert len(agent.client.get("/v1/messages")["items"]) == 1
    other = _post(agent, "/v1/messages", {"recipients": ["a"], "subject": "other"})
    assert other.status == 422 and "different request" in other.body["detail"]
    elsewhere = _post(agent, "/v1/knowledge", {"kind": "tip", "title": "once"})
    assert elsewhere.status == 422
    assert len(agent.client.get("/v1/messages")["items"]) == 1


def test_refusals_are_kept_and_transient_ones_are_not(make_fleet):
    fleet = make_fleet("idem")
    agent = fleet.member("a")
    missing = _post(agent, "/v1/tasks/999999/actions", {"action": "claim"}, key="claim-1")
    assert missing.status == 404
    again = _post(agent, "/v1/tasks/999999/actions", {"action": "claim"}, key="claim-1")
    assert again.status == 404 and again.body == missing.body and again.getheader("Idempotent-Replayed") == "true"
    assert again.getheader("Content-Type") == "application/problem+json"


def test_keys_are_per_member_and_never_leak(make_fleet):
    fleet = make_fleet("idem")
    a, b = fleet.member("a"), fleet.member("b")
    mine = _post(a, "/v1/knowledge", {"kind": "tip", "title": "A's"}, key="shared")
    theirs = _post(b, "/v1/knowledge", {"kind": "tip", "title": "A's"}, key="shared")
    assert mine.status == theirs.status == 201
    assert theirs.getheader("Idempotent-Replayed") is None and theirs.body["id"] != mine.body["id"]
    assert theirs.body["author"] == b.address
    # The owner's registration (its answer holds a token) is not B's to replay either.
    reg = _post(fleet.owner, "/v1/agents", {"name": "c"}, key="reg")
    assert reg.status == 201
    stolen = _post(b, "/v1/agents", {"name": "c"}, key="reg")
    assert stolen.status == 403 and "token" not in json.dumps(stolen.body)


@pytest.mark.parametrize("key", ["", "x" * 256, "c1\x85control", "tab\there"])
def test_malformed_keys_are_422(make_fleet, key):
    owner = make_fleet("idem").owner
    resp = _post(owner, "/v1/knowledge", {"kind": "tip", "title": "t"}, key=key)
    assert resp.status == 422 and "Idempotency-Key" in resp.body["detail"]
    assert owner.client.get("/v1/knowledge")["items"] == []


def test_longest_key_is_accepted(make_fleet):
    owner = make_fleet("idem").owner
    # C0 controls never reach the app: waitress refuses such a header line itself (400).
    assert _post(owner, "/v1/knowledge", {"kind": "tip", "title": "t"}, key="bad\x01key").status == 400
    assert _post(owner, "/v1/knowledge", {"kind": "tip", "title": "t"}, key="k" * 255).status == 201


def test_concurrent_repeats_run_once(make_fleet):
    fleet = make_fleet("idem")
    agent = fleet.member("a")
    results = []
    barrier = threading.Barrier(8)

    def send():
        barrier.wait()
        results.append(_post(agent, "/v1/messages", {"recipients": ["a"], "subject": "race"}, key="race"))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [r.status for r in results] == [201] * 8
    assert len({r.body["id"] for r in results}) == 1
    assert sum(r.getheader("Idempotent-Replayed") == "true" for r in results) == 7
    assert len(agent.client.get("/v1/messages")["items"]) == 1


def test_token_answers_are_sealed_and_replay_after_rotation(make_fleet):
    from fleetctl.models.idempotency import IdempotentAnswer

    fleet = make_fleet("idem")
    agent = fleet.member("a")
    first = _post(agent, "/v1/tokens/rotate", key="rot")
    assert first.status == 200
    new = first.body["token"]
    row = IdempotentAnswer.select().where(IdempotentAnswer.key == "rot").order_by(IdempotentAnswer.id.desc()).get()
    assert row.sealed and "flt_" not in row.body and new not in row.body
    # The old token is dead, yet the lost answer of its own rotation comes back to it (and only it).
    again = _post(agent, "/v1/tokens/rotate", key="rot")
    assert again.status == 200 and again.body["token"] == new and again.getheader("Idempotent-Replayed") == "true"
    assert agent.http("GET", "/v1/whoami").status == 401
    assert _post(agent, "/v1/tokens/rotate", key="other").status == 401
    rotated = Actor(agent.address, new, agent.url)
    assert rotated.http("GET", "/v1/whoami").status == 200
    # The new token cannot open the answer kept for the old one.
    reused = _post(rotated, "/v1/tokens/rotate", key="rot")
    assert reused.status == 422


class DroppingProxy:
    """A TCP proxy that forwards each request to the server and, the first time it sees a write's
    Idempotency-Key, drops the client's connection after the server answered (the answer is lost)."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.seen: dict[str, int] = {}
        self.dropped = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _read_message(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes] | None:
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            rest += chunk
        return head + b"\r\n\r\n" + rest[:length], rest[length:]

    def _serve(self, client: socket.socket) -> None:
        buffer = b""
        with client:
            while True:
                got = self._read_message(client, buffer)
                if got is None:
                    return
                request, buffer = got
                key = None
                for line in request.split(b"\r\n\r\n")[0].split(b"\r\n"):
                    if line.lower().startswith(b"idempotency-key:"):
                        key = line.split(b":", 1)[1].strip().decode()
                with socket.create_connection(self.upstream) as up:
                    up.sendall(request)
                    answer = self._read_message(up, b"")
                if key is not None:
                    self.seen[key] = self.seen.get(key, 0) + 1
                    if self.seen[key] == 1:
                        self.dropped += 1
                        client.shutdown(socket.SHUT_RDWR)
                        return
                if answer is None:
                    return
                client.sendall(answer[0])

    def close(self) -> None:
        self.listener.close()


def test_client_retries_through_a_proxy_that_drops_answers(make_fleet, server):
    from fleetctl import config
    from fleetctl.models.core import Token

    proxy = DroppingProxy(server.url)
    try:
        fleet = make_fleet("proxy")
        agent = fleet.member("a")
        via = Actor(agent.address, agent.token, proxy.url)
        sent = via.cli("msg", "send", "a", "--subject", "exactly once", "--json")
        assert sent.exit_code == 0, sent.stderr
        assert [m["subject"] for m in agent.client.get("/v1/messages")["items"]] == ["exactly once"]
        entry = via.cli("knowledge", "publish", "--kind", "tip", "--title", "one entry", "--json")
        assert entry.exit_code == 0, entry.stderr
        assert [k["title"] for k in agent.client.get("/v1/knowledge")["items"]] == ["one entry"]
        task = fleet.owner.client.post("/v1/tasks", {"title": "claim me"})
        claim = via.cli("task", "claim", str(task["id"]), "--json")
        assert claim.exit_code == 0, claim.stderr
        shown = agent.client.get(f"/v1/tasks/{task['id']}")
        assert shown["assignee"] == agent.address
        assert sum(1 for h in shown.get("history", []) if h.get("action") == "claim") <= 1
        # Rotation through the proxy with a saved profile: one rotation, the CLI prints its token and
        # the profile keeps it.
        login = run_cli(["login", "--url", proxy.url, "--token", agent.token, "--profile", "p"])
        assert login.exit_code == 0, login.stderr
        rotated = run_cli(["--profile", "p", "token", "rotate", "--json"])
        assert rotated.exit_code == 0, rotated.stderr
        token = rotated.json()["token"]
        assert config.load_profiles()["profiles"]["p"]["token"] == token
        assert run_cli(["--profile", "p", "whoami"]).exit_code == 0
        member_id = Token.get_by_id(int(token.split("_")[2])).member_id
        rows = list(Token.select().where(Token.member == member_id))
        assert len(rows) == 2 and sum(r.revoked_at is None for r in rows) == 1
        assert proxy.dropped == 4 and all(count == 2 for count in proxy.seen.values())
    finally:
        proxy.close()
