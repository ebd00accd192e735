"""The Home tab: an owner's open items (bot-made and hand-written), the open incidents a person may
see (private ones only to their members), their recent incidents, paging, and Mark done from it."""

from __future__ import annotations

from typing import Any

from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, all_text
from tests.slack.test_access import declare_private
from tests.slack.test_resolve import declare, open_resolve_form, room_says

STRANGER = "UCAROL"


def open_home(slack: SlackDriver, user: str) -> None:
    assert slack.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D0HOME"}).status == 200


def home_of(fake: FakeSlack, user: str, *, showing: str = "", after: int = 0) -> dict[str, Any]:
    """The user's Home tab once it has been published (again, `after` publishes) and shows `showing`."""

    def published() -> dict[str, Any] | None:
        if len(fake.calls("views.publish")) <= after:
            return None
        home = next((v for v in fake.views() if v["type"] == "home" and v["user"] == user), None)
        return home if home is not None and showing in all_text(home) else None

    return fake.wait_for(published)


def add_item(slack: SlackDriver, fake: FakeSlack, room: dict[str, Any], text: str) -> None:
    slack.command("/incident", f"action <@{RESPONDER}|bob> {text}", user=COMMANDER, channel=room["id"])
    room_says(fake, room, "added action item")


def test_an_owner_sees_their_items_from_both_kinds_of_rca_and_marks_one_done(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user("UMATT", "matt")  # owns the fixture's hand-written RCA's open item #3
    room = declare(slack, fake_slack, "sev2 Gateway flapping")
    add_item(slack, fake_slack, room, "Add a health check")

    open_home(slack, RESPONDER)
    home = home_of(fake_slack, RESPONDER, showing="Add a health check")
    text = all_text(home)
    assert "Your open action items" in text and "Gateway flapping" in text and "Open incidents" in text
    assert "Mark done" in text and "In progress" in text

    open_home(slack, "UMATT")
    matt = home_of(fake_slack, "UMATT", showing="#3")
    assert "Add a health check" not in all_text(matt)  # only their own items

    before = len(fake_slack.calls("views.publish"))
    slack.click(RESPONDER, home, "Mark done")
    fake_slack.wait_for(lambda: room_says(fake_slack, room, "✅ DONE"))
    after = home_of(fake_slack, RESPONDER, showing="Nothing open", after=before)
    assert "Add a health check" not in all_text(after)


def test_a_private_incident_shows_only_to_its_members(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    fake_slack.add_user(STRANGER, "carol")
    secret = declare_private(slack, fake_slack, "Keys leaked")
    fake_slack.join(secret["id"], RESPONDER)
    declare(slack, fake_slack, "sev3 Slow dashboard")

    open_home(slack, RESPONDER)  # a member
    assert "Keys leaked" in all_text(home_of(fake_slack, RESPONDER, showing="Slow dashboard"))
    open_home(slack, COMMANDER)  # its commander
    assert "Keys leaked" in all_text(home_of(fake_slack, COMMANDER, showing="Slow dashboard"))
    open_home(slack, STRANGER)  # not a member
    outside = all_text(home_of(fake_slack, STRANGER, showing="Slow dashboard"))
    assert "Keys leaked" not in outside and "Slow dashboard" in outside


def test_many_items_are_paged_and_resolved_incidents_link_their_rca(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(slack, fake_slack, "sev2 Many follow-ups")
    for number in range(1, 26):
        add_item(slack, fake_slack, room, f"Follow-up number {number:02d}")
    form = open_resolve_form(slack, fake_slack, room)
    slack.submit(COMMANDER, form, {"Summary": "Fixed"})
    room_says(fake_slack, room, "RCA `DOCS/incidents/")

    open_home(slack, RESPONDER)
    first = home_of(fake_slack, RESPONDER, showing="page 1 of 2")
    assert "Follow-up number 01" in all_text(first) and "Follow-up number 25" not in all_text(first)
    assert len(first["blocks"]) <= 100
    before = len(fake_slack.calls("views.publish"))
    slack.click(RESPONDER, first, "Older ›")
    second = home_of(fake_slack, RESPONDER, showing="page 2 of 2", after=before)
    assert "Follow-up number 25" in all_text(second) and "Follow-up number 01" not in all_text(second)

    open_home(slack, COMMANDER)
    commander = all_text(home_of(fake_slack, COMMANDER, showing="Your recent incidents"))
    assert "Many follow-ups" in commander and "RCA" in commander


def test_a_reminder_with_more_than_twenty_items_points_to_the_home_tab(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    room = declare(slack, fake_slack, "sev2 Big cleanup")
    for number in range(1, 23):
        add_item(slack, fake_slack, room, f"Cleanup step {number:02d}")
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Done"})
    dm = fake_slack.wait_for(lambda: fake_slack.dms_to(RESPONDER))[-1]
    assert "…and 2 more: the bot's *Home* tab lists them all." in all_text(dm)
    assert "incident-bot scan" not in all_text(dm)


def test_a_home_tab_someone_opened_follows_new_and_resolved_incidents(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    open_home(slack, RESPONDER)
    home_of(fake_slack, RESPONDER, showing="No open incidents")
    before = len(fake_slack.calls("views.publish"))
    room = declare(slack, fake_slack, "sev2 Fresh outage")
    home_of(fake_slack, RESPONDER, showing="Fresh outage", after=before)  # without opening it again
    before = len(fake_slack.calls("views.publish"))
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Fixed"})
    home_of(fake_slack, RESPONDER, showing="No open incidents", after=before)


def test_a_refresh_keeps_a_reader_on_the_page_they_turned_to(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(slack, fake_slack, "sev2 Long tail")
    for number in range(1, 26):
        add_item(slack, fake_slack, room, f"Tail item {number:02d}")
    open_home(slack, RESPONDER)
    first = home_of(fake_slack, RESPONDER, showing="Tail item 01")
    assert "page 1 of 2" in all_text(first)
    slack.click(RESPONDER, first, "Older ›")
    home_of(fake_slack, RESPONDER, showing="page 2 of 2")

    before = len(fake_slack.calls("views.publish"))
    declare(slack, fake_slack, "sev3 Another outage")  # a change refreshes the tabs people look at
    refreshed = home_of(fake_slack, RESPONDER, showing="Another outage", after=before)
    text = all_text(refreshed)
    assert "page 2 of 2" in text and "Tail item 25" in text and "Tail item 01" not in text
