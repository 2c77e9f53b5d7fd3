"""Every layer takes the wake's sections from the one list in fleetctl/wake_layout.py."""

from fleetctl import wake_layout
from fleetctl.models.wake import WakeMarks
from fleetctl.services import wake_actions, wake_sections, wake_streams


def test_each_news_section_has_its_mark_column():
    columns = [f.name for f in WakeMarks._meta.sorted_fields if f.name not in ("member", "updated_at")]
    assert tuple(columns) == wake_layout.MARKED


def test_each_kind_of_item_is_read_written_and_opened():
    kinds = {s.kind for s in wake_layout.SECTIONS}
    assert kinds == set(wake_sections.READERS)
    for kind in kinds - {"document"}:  # a document opens as a diff of its new versions
        assert wake_actions.read(kind, 1).tool == "fleet_read"


def test_addressed_sections_read_the_members_own_streams():
    class Member:
        id, fleet_id, domains, cross_fleet, is_human = 42, 7, ["infra"], False, False

    for section in wake_layout.MARKED:
        streams = wake_streams.of_member(section, Member())
        if wake_layout.BY_KEY[section].addressed:
            assert streams == [f"{section}@42"]
        else:
            assert streams == [f"{section}:7:", f"{section}:7:infra"]


def test_the_json_keys_and_headings_follow_the_list_order():
    assert wake_layout.KEYS == ("breaking", "messages", "tasks", "research", "knowledge", "documents", "pinned")
    assert wake_layout.KEYS[:-1] == wake_layout.MARKED
    assert len({s.heading for s in wake_layout.SECTIONS}) == len(wake_layout.SECTIONS)
