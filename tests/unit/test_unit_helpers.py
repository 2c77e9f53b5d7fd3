"""Pure helpers, table-driven: durations and times, sizes, names and domains, text fields, tokens, wake
cursors, previews and page sizes, wake actions, problem+json errors."""

from __future__ import annotations

import datetime as dt
import shlex

import pytest

from fleetctl import errors
from fleetctl.errors import Invalid
from fleetctl.models.core import Fleet, Member
from fleetctl.services import knowledge, paging, previews, quota, tokens, validate, wake, wake_actions, wakeup_pg
from fleetctl.services.wake_lines import clip
from fleetctl.wake_layout import MARKED

NOW = dt.datetime(2030, 1, 1, 12, 0, 0)


@pytest.mark.parametrize("text,seconds", [
    ("90s", 90), ("30m", 1800), ("3h", 10800), ("7d", 604800), ("2w", 1209600), (" 5 m ", 300),
    ("999999999s", 999999999),
])
def test_durations(text, seconds):
    assert knowledge.parse_duration(text) == dt.timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "5", "s", "0s", "-5d", "1.5h", "3H", "1y", "1x", "1000000000s", "5 d s",
                                  None, 5])
def test_bad_durations_are_422(text):
    with pytest.raises(Invalid, match="invalid duration"):
        knowledge.parse_duration(text)


@pytest.mark.parametrize("text,moment", [
    ("2030-01-31T12:00:00Z", dt.datetime(2030, 1, 31, 12)),
    ("2030-01-31T12:00:00z", dt.datetime(2030, 1, 31, 12)),
    ("2030-01-31T14:00:00+02:00", dt.datetime(2030, 1, 31, 12)),
    ("2030-01-31T12:00:00", dt.datetime(2030, 1, 31, 12)),  # no offset: taken as UTC
    (" 2030-01-31 ", dt.datetime(2030, 1, 31)),
])
def test_times_are_naive_utc(text, moment):
    assert knowledge.parse_time(text) == moment


@pytest.mark.parametrize("text", ["", "tomorrow", "2030-13-01T00:00:00Z", "2030-01-01T25:00:00", None])
def test_bad_times_are_422(text):
    with pytest.raises(Invalid, match="invalid time"):
        knowledge.parse_time(text)


def test_expiry_from_a_duration_a_time_or_neither():
    assert knowledge.expiry(None, "7d", NOW) == NOW + dt.timedelta(days=7)
    assert knowledge.expiry("2030-01-02T12:00:00Z", None, NOW) == NOW + dt.timedelta(days=1)
    assert knowledge.expiry(None, None, NOW) is None


@pytest.mark.parametrize("at,within,message", [
    ("2030-01-02T00:00:00Z", "1d", "not both"),
    ("2029-12-31T00:00:00Z", None, "in the past"),
    ("2030-01-01T12:00:00Z", None, "in the past"),  # now is not the future
    ("2200-01-01T00:00:00Z", None, "too far away"),
    (None, "5300w", "too far away"),
])
def test_bad_expiries_are_422(at, within, message):
    with pytest.raises(Invalid, match=message):
        knowledge.expiry(at, within, NOW)


@pytest.mark.parametrize("text,size", [
    ("2048", 2048), ("1GiB", 1024 ** 3), ("500MB", 500 * 1000 ** 2), ("64kib", 65536), ("1.5 MiB", 1572864),
    ("1b", 1), ("1TiB", 1024 ** 4), (" 2 GB ", 2 * 1000 ** 3),
])
def test_sizes(text, size):
    assert quota.parse_size(text) == size


@pytest.mark.parametrize("text,message", [
    ("", "invalid size"), ("GiB", "invalid size"), ("1 PB", "invalid size"), ("-1GiB", "invalid size"),
    ("0", "at least 1 byte"), ("0.1b", "at least 1 byte"), ("2048TiB", "at most 1 PiB"), (None, "invalid size"),
])
def test_bad_sizes_are_422(text, message):
    with pytest.raises(Invalid, match=message):
        quota.parse_size(text)


@pytest.mark.parametrize("size,text", [
    (0, "0 B"), (512, "512 B"), (1024, "1 KiB"), (1536, "1.5 KiB"), (1024 ** 3, "1 GiB"),
    (5 * 1024 ** 4, "5 TiB"), (1024 ** 2 - 1, "1024 KiB"),
])
def test_sizes_are_written_in_the_largest_readable_unit(size, text):
    assert quota.format_size(size) == text


@pytest.mark.parametrize("check,good,bad", [
    (validate.fleet_name, ["a", "acme", "a-1", "0", "a" * 40], ["", "-a", "A", "a_b", "a/b", "a" * 41, " a", None]),
    (validate.member_name, ["ops", "a" * 63, "x-9"], ["", "Ops", "a.b", "a" * 64, "-x", 5]),
])
def test_names_are_lowercase_slugs(check, good, bad):
    for name in good:
        assert check(name) == name
    for name in bad:
        with pytest.raises(Invalid, match="lowercase slug"):
            check(name)


def test_domains_are_normalised_deduplicated_and_capped():
    assert validate.domains([" Infra ", "infra", "web.api", "a_b-c"]) == ["infra", "web.api", "a_b-c"]
    assert validate.domains(None) == []
    assert len(validate.domains([f"d{n}" for n in range(validate.MAX_DOMAINS)])) == validate.MAX_DOMAINS
    with pytest.raises(Invalid, match="too many domain tags"):
        validate.domains([f"d{n}" for n in range(validate.MAX_DOMAINS + 1)])
    for bad in ("", ".x", "a b", "a/b", "é", "x" * 64, 3):
        with pytest.raises(Invalid, match="invalid domain tag"):
            validate.domains([bad])


def test_text_fields():
    assert validate.text("  hi  ", "title") == "hi"
    assert validate.text(None, "note", required=False) == ""
    assert validate.text("  kept  ", "note", required=False) == "  kept  "
    for value, message in ((" ", "must not be empty"), (None, "must not be empty"), ("a\x00b", "NUL bytes"),
                           ("x" * 11, "too long \\(11 characters; at most 10\\)")):
        with pytest.raises(Invalid, match=message):
            validate.text(value, "title", max_len=10)


def test_bodies_are_capped_in_utf8_bytes_not_characters():
    assert validate.body("é" * (validate.MAX_BODY_BYTES // 2)) == "é" * (validate.MAX_BODY_BYTES // 2)
    with pytest.raises(Invalid, match="bytes; at most 1 MiB"):
        validate.body("é" * (validate.MAX_BODY_BYTES // 2 + 1))


def test_choices_and_visibility():
    assert validate.choices("a", ("a", "b"), "kind") == ["a"]
    assert validate.choices(["b", "a"], ("a", "b"), "kind") == ["b", "a"]
    assert validate.choices(None, ("a",), "kind") == []
    with pytest.raises(Invalid, match="invalid kind 'c': use one of a, b"):
        validate.choices(["a", "c"], ("a", "b"), "kind")
    assert validate.visibility(None) == "fleet" and validate.visibility("cross-fleet") == "cross-fleet"
    with pytest.raises(Invalid, match="invalid visibility"):
        validate.visibility("public")


def token_for(fleet_id: int, token_id: int, body: str = "A" * tokens.SECRET_LEN) -> str:
    return f"flt_{fleet_id}_{token_id}_{body}{tokens._checksum(fleet_id, token_id, body)}"


def test_a_token_parses_into_its_fleet_id_and_secret():
    token = token_for(3, 17)
    assert tokens.parse(token) == (3, 17, token.rsplit("_", 1)[1])


@pytest.mark.parametrize("mangle,message", [
    (lambda t: t[:-1] + ("x" if t[-1] != "x" else "y"), "checksum mismatch"),  # a mistyped character
    (lambda t: t.replace("flt_3_17_A", "flt_3_17_B", 1), "checksum mismatch"),
    (lambda t: t.replace("flt_3_17", "flt_4_17", 1), "checksum mismatch"),  # another fleet's id
    (lambda t: t[:-1], "malformed token$"),
    (lambda t: t.replace("flt_", "tok_"), "malformed token$"),
    (lambda t: t.replace("flt_3_", "flt_0_"), "malformed token$"),
    (lambda t: "", "malformed token$"),
    (lambda t: " " + t, "malformed token$"),
])
def test_a_mistyped_or_malformed_token_is_refused_before_any_lookup(mangle, message):
    with pytest.raises(errors.Unauthorized, match=message):
        tokens.parse(mangle(token_for(3, 17)))


def test_wake_cursors_of_another_shape_or_member_are_422():
    me = Member(id=7, name="bot", role="agent")
    marks = tuple(range(1, len(MARKED) + 1))
    cursor = wake.encode(me, marks, marks)
    assert cursor == f"7:{'.'.join(map(str, marks))}:{'.'.join(map(str, marks))}"
    other = Member(id=8, fleet=Fleet(id=1, name="acme"), name="other", role="agent")
    with pytest.raises(Invalid, match="belongs to another member, not to acme/other"):
        wake.decode(other, cursor)
    for bad in ("", "7", "7::", "x:1:1", f"7:{marks[0]}:{marks[0]}", cursor + ".1", cursor + ":", 7, None,
                cursor.replace("7:", "-7:", 1), "1" * 19 + cursor[1:]):
        with pytest.raises(Invalid, match="malformed wake cursor"):
            wake.decode(me, bad)


@pytest.mark.parametrize("text,expected", [
    ("short", "short"), ("  many   spaces\nand\tlines ", "many sp..."), (" a\n\tb ", "a b"), (None, ""),
    ("x" * 10, "x" * 10), ("x" * 11, "x" * 7 + "..."),
])
def test_clip_keeps_one_line_within_its_limit(text, expected):
    assert clip(text, 10) == expected


def test_previews_and_page_sizes():
    assert previews.of_text("a" * 300) == {"preview": "a" * previews.PREVIEW_CHARS, "body_chars": 300}
    assert previews.of_text(None) == {"preview": "", "body_chars": 0}
    assert paging.clamp_limit(None) == paging.DEFAULT_LIMIT
    assert paging.clamp_limit(1) == 1 and paging.clamp_limit(10**9) == paging.MAX_LIMIT
    for bad in (0, -1):
        with pytest.raises(Invalid, match="at least 1"):
            paging.clamp_limit(bad)


def test_wake_actions_run_as_printed_in_both_styles():
    reject = wake_actions.task(12, "reject")
    assert shlex.split(reject.command("cli")) == ["fleetctl", "task", "reject", "12", "--reason",
                                                  wake_actions.REASONS["reject"]]
    assert reject.as_dict("mcp") == {"action": "reject", "tool": "fleet_task_action",
                                     "arguments": {"id": 12, "action": "reject",
                                                   "reason": wake_actions.REASONS["reject"]},
                                     "command": reject.command("mcp")}
    assert wake_actions.task(12, "accept").command("cli") == "fleetctl task accept 12"
    assert wake_actions.read("message", 5).command("cli") == "fleetctl msg read 5"
    assert wake_actions.document("spec", "acme/spec", 0, 1).command("cli") == "fleetctl doc get spec"
    assert wake_actions.document("spec", "acme/spec", 2, 4).command("cli") == "fleetctl doc diff spec 2 4"
    assert wake_actions.next_part().command("mcp") == "fleet_wake {}"


@pytest.mark.parametrize("payload,parsed", [
    ("node-a 3 17", ("node-a", 3, 17)), ("node-a 3 ", ("node-a", 3, None)),
    ("node-a", None), ("node-a x 1", None), ("", None), ("n 1 y", None),
])
def test_wake_up_notifications_from_other_servers(payload, parsed):
    assert wakeup_pg.parse(payload) == parsed


@pytest.mark.parametrize("cls,status,exit_code", [
    (errors.BadRequest, 400, 2), (errors.Unauthorized, 401, 3), (errors.Forbidden, 403, 3),
    (errors.NotFound, 404, 4), (errors.Conflict, 409, 5), (errors.PayloadTooLarge, 413, 2),
    (errors.Invalid, 422, 2), (errors.RateLimited, 429, 6), (errors.ServiceUnavailable, 503, 7),
])
def test_each_error_is_one_problem_document_status_and_exit_code(cls, status, exit_code):
    err = cls("what went wrong")
    problem = err.problem()
    assert problem["status"] == err.http_status == status and err.exit_code == exit_code
    assert problem["detail"] == "what went wrong" and problem["title"] == cls.title
    assert problem["type"].startswith("https://") and problem["type"].endswith(cls.title.lower().replace(" ", "-"))
    rebuilt = errors.from_status(status, "what went wrong")
    assert type(rebuilt) is cls and rebuilt.detail == "what went wrong"


def test_problem_extras_and_unknown_statuses():
    assert errors.Conflict("stale", version=4).problem()["version"] == 4
    assert errors.from_status(409, "x", {"allowed": ["cancel"]}).extra == {"allowed": ["cancel"]}
    teapot = errors.from_status(418, "")
    assert isinstance(teapot, errors.ServerError) and teapot.http_status == 418 and "418" in teapot.detail
    assert errors.FleetError().detail == "Internal Server Error"


def test_production_tokens_cost_10_bcrypt_rounds_and_only_the_environment_lowers_it(monkeypatch):
    """The suite mints tokens at bcrypt's minimum cost (conftest sets FLEET_BCRYPT_ROUNDS=4); production
    keeps 10."""
    monkeypatch.delenv("FLEET_BCRYPT_ROUNDS", raising=False)
    assert tokens.bcrypt_rounds() == 10
    body, hashed = tokens.new_secret()
    assert hashed.startswith("$2b$10$") and len(body) == tokens.SECRET_LEN
    for value, rounds in (("4", 4), ("1", 4), ("12", 12)):
        monkeypatch.setenv("FLEET_BCRYPT_ROUNDS", value)
        assert tokens.bcrypt_rounds() == rounds
