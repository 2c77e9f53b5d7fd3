"""`fleetctl wake` through the CLI: prompt, --json, --peek, ack, --max-chars, --hook, FLEET_WAKE_CURSOR."""

from __future__ import annotations

from conftest import run_cli


def send(sender, to, subject):
    return sender.client.post("/v1/messages", {"recipients": [to], "subject": subject})


def test_wake_prints_prompt_and_advances(make_fleet):
    fleet = make_fleet()
    scout = fleet.member("scout", domains=["infra"])
    scout.cli("wake")
    msg = send(fleet.owner, "scout", "deploy freeze")
    first = scout.cli("wake")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith(f"# Fleet wake for {scout.address}: 1 new item")
    assert f'#{msg["id"]} "deploy freeze" from {fleet.owner.address} -> `fleetctl msg read {msg["id"]}`' \
        in first.stdout
    second = scout.cli("wake")
    assert second.exit_code == 0
    assert second.stdout == f"# Fleet wake for {scout.address}: nothing new since your last wake.\n"


def test_json_shape_and_visibility(make_fleet):
    a, b = make_fleet(), make_fleet()
    scout = a.member("scout", domains=["infra"])
    outsider = b.member("outsider", domains=["infra"], cross_fleet=True)
    for actor in (scout, outsider):
        actor.cli("wake")
    entry = a.owner.client.post("/v1/knowledge", {"kind": "breaking", "title": "fleet-only", "domains": ["infra"]})
    data = scout.cli("wake", "--peek", "--json").json()
    assert set(data) == {"cursor", "empty", "prompt", "sections", "counts", "waiting"} and data["empty"] is False
    assert [i["id"] for i in data["sections"]["breaking"]] == [entry["id"]]
    other = outsider.cli("wake", "--json").json()
    assert other["empty"] is True and other["sections"]["breaking"] == []


def test_peek_then_ack(make_fleet):
    fleet = make_fleet()
    scout = fleet.member("scout")
    scout.cli("wake")
    send(fleet.owner, "scout", "ping")
    one = scout.cli("wake", "--peek", "--json").json()
    two = scout.cli("wake", "--peek", "--json").json()
    assert one == two and one["empty"] is False
    peeked = scout.cli("wake", "--peek")
    assert "fleetctl wake ack" in peeked.stderr and "ping" in peeked.stdout
    acked = scout.cli("wake", "ack", one["cursor"], "--json")
    assert acked.exit_code == 0 and acked.json() == {"cursor": one["cursor"], "moved": True}
    assert scout.cli("wake", "ack", one["cursor"]).stdout == "Already acknowledged.\n"
    assert scout.cli("wake", "--peek", "--json").json()["empty"] is True


def test_bad_input_is_a_usage_error(make_fleet):
    scout = make_fleet().member("scout")
    cursor = scout.cli("wake", "--peek", "--json").json()["cursor"]
    member, before, _ = cursor.split(":")
    future = f"{member}:{before}:" + ".".join(["999999999999"] * 6)
    for args in (("wake", "--max-chars", "10"), ("wake", "ack", "-1"), ("wake", "ack", "abc"),
                 ("wake", "ack", "999999999999"), ("wake", "ack", future)):
        result = scout.cli(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert scout.cli("wake", "ack", "12").stderr.startswith("fleetctl: error: malformed wake cursor")
    assert "beyond the newest change" in scout.cli("wake", "ack", future).stderr


def test_max_chars(make_fleet):
    fleet = make_fleet()
    scout = fleet.member("scout")
    scout.cli("wake")
    for n in range(8):
        send(fleet.owner, "scout", f"report {n} " + "z" * 80)
    result = scout.cli("wake", "--peek", "--max-chars", "400")
    assert result.exit_code == 0 and len(result.stdout.rstrip("\n")) <= 400
    assert result.stdout.rstrip("\n").endswith("still waiting: `fleetctl wake` hands over the next part.")
    seen = []
    while (part := scout.cli("wake", "--max-chars", "400", "--json").json())["sections"]["messages"]:
        seen += [m["subject"] for m in part["sections"]["messages"]]
    assert seen == [f"report {n} " + "z" * 80 for n in range(8)]  # each once, oldest first


def test_hook_prints_prompt_and_advances(make_fleet):
    fleet = make_fleet()
    scout = fleet.member("scout")
    scout.cli("wake")
    send(fleet.owner, "scout", "hello from the hook")
    result = scout.cli("wake", "--hook")
    assert result.exit_code == 0 and "hello from the hook" in result.stdout
    assert scout.cli("wake", "--peek", "--json").json()["empty"] is True


def test_daemon_cursor_makes_every_wake_a_peek(make_fleet):
    """Inside a daemon run (FLEET_WAKE_CURSOR set) `wake` and `wake --hook` hand nothing over."""
    fleet = make_fleet()
    scout = fleet.member("scout")
    send(fleet.owner, "scout", "inside the daemon")
    daemon = {"FLEET_WAKE_CURSOR": scout.cli("wake", "--peek", "--json").json()["cursor"]}
    for args in (("wake",), ("wake", "--hook"), ("wake", "--json"), ("wake", "--hook", "--max-chars", "300")):
        result = scout.cli(*args, env=daemon)
        assert result.exit_code == 0 and "inside the daemon" in result.stdout, (args, result.stderr)
    assert scout.cli("wake", "--peek", "--json").json()["empty"] is False
    assert "inside the daemon" in scout.cli("wake").stdout  # outside a daemon run: handed over
    assert scout.cli("wake", "--peek", "--json").json()["empty"] is True


def test_hook_never_fails(make_fleet, server):
    scout = make_fleet().member("scout")
    cases = [
        {"FLEET_URL": "http://127.0.0.1:9", "FLEET_TOKEN": scout.token},  # nobody listens
        {"FLEET_URL": server.url, "FLEET_TOKEN": "flt_1_1_refusedrefusedrefusedrefusedrefused"},
        {"FLEET_URL": "not a url at all", "FLEET_TOKEN": scout.token},
        {"FLEET_URL": server.url},  # no token anywhere
    ]
    for env in cases:
        result = run_cli(["wake", "--hook"], env)
        assert result.exit_code == 0, (env, result.stderr)
        assert result.stdout.count("\n") == 1 and result.stdout.startswith("(fleet wake unavailable:"), result.stdout
    for args, env in ((["wake", "--hook", "--json"], {}), (["wake", "--hook"], {"FLEET_OUTPUT": "json"})):
        as_json = run_cli(args, {**cases[0], **env})  # agents reading JSON still get one JSON document
        assert as_json.exit_code == 0, as_json.stderr
        data = as_json.json()
        assert data["empty"] is True and data["cursor"] is None
        assert data["prompt"].startswith("(fleet wake unavailable:")
        assert set(data["sections"]) == {"breaking", "messages", "tasks", "research", "knowledge", "documents",
                                         "pinned"} and "cannot reach" in data["error"]
    plain = run_cli(["wake"], cases[0])
    assert plain.exit_code == 7  # without --hook an outage is an error as usual
