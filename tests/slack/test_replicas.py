"""Two replicas on one database agree: same-titled incidents, racing changes, a reopen during a publish."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.demo.docs_repo import DocsRepo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, all_text, driver_for, settle, start_bot
from tests.slack.test_resolve import open_resolve_form, room_says
from tests.slack.test_resolve_ahead import rows_ahead
from tests.support.clock import TODAY, RunningClock

HELPER = "UCAROL"  # owns an action item


@pytest.fixture
def replicas(
    settings: Settings, clock: RunningClock, fake_slack: FakeSlack
) -> Iterator[list[tuple[RunningBot, SlackDriver]]]:
    bots = [start_bot(settings, clock), start_bot(settings, clock)]
    drivers = [driver_for(bot, fake_slack) for bot in bots]
    yield list(zip(bots, drivers, strict=True))
    for bot in bots:
        bot.stop()


def at_once(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads that start together."""
    start = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        start.wait()
        results[index] = actions[index]()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def settle_all(replicas: list[tuple[RunningBot, SlackDriver]], clock: RunningClock) -> None:
    for bot, _ in replicas:
        settle(bot, clock)


def incident_rooms(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c for c in fake.channels() if c["name"].startswith("inc-") and fake.messages(c["id"])]


def test_same_titles_declared_on_two_replicas_get_two_channels_and_two_rcas(
    replicas: list[tuple[RunningBot, SlackDriver]], fake_slack: FakeSlack, docs_repo: DocsRepo, clock: RunningClock
) -> None:
    at_once(
        *(
            lambda d=driver: d.command("/incident", "sev2 Login broken", user=COMMANDER, channel="CGENERAL")
            for _, driver in replicas
        )
    )
    rooms = fake_slack.wait_for(lambda: incident_rooms(fake_slack) if len(incident_rooms(fake_slack)) == 2 else None)
    settle_all(replicas, clock)
    assert len({room["name"] for room in rooms}) == 2
    forms = [open_resolve_form(driver, fake_slack, room) for (_, driver), room in zip(replicas, rooms, strict=True)]
    at_once(
        *(
            lambda d=driver, f=form, n=n: d.submit(COMMANDER, f, {"Summary": f"Fix {n}"})
            for n, ((_, driver), form) in enumerate(zip(replicas, forms, strict=True))
        )
    )
    for room in rooms:
        room_says(fake_slack, room, "RCA `DOCS/incidents/")
    settle_all(replicas, clock)
    first = docs_repo.remote_file(f"DOCS/incidents/{TODAY}-login-broken-rca.md") or ""
    second = docs_repo.remote_file(f"DOCS/incidents/{TODAY}-login-broken-2-rca.md") or ""
    assert {"Fix 0" in first + second, "Fix 1" in first + second} == {True}
    assert ("Fix 0" in first) != ("Fix 0" in second)
    fleet = docs_repo.remote_file("fleet-status.md") or ""
    assert len([line for line in fleet.splitlines() if "Login broken" in line]) == 2


def test_severity_changes_racing_on_two_replicas_are_applied_one_after_the_other(
    replicas: list[tuple[RunningBot, SlackDriver]], fake_slack: FakeSlack, clock: RunningClock
) -> None:
    (bot, driver), (_, other) = replicas
    driver.command("/incident", "sev3 Queue stalled", user=COMMANDER, channel="CGENERAL")
    room = fake_slack.wait_for(lambda: next(iter(incident_rooms(fake_slack)), None))
    settle_all(replicas, clock)
    at_once(
        lambda: driver.command("/incident", "sev1", user=COMMANDER, channel=room["id"]),
        lambda: other.command("/incident", "sev2", user=COMMANDER, channel=room["id"]),
    )
    settle_all(replicas, clock)
    with bot.container.ctx.uow() as uow:
        incident = uow.incidents.by_room(room["id"])
        assert incident is not None and incident.id is not None
        changes = [e.text for e in uow.timeline.for_incident(incident.id) if e.text.startswith("Severity changed")]
    first_to, second_from = changes[0].rsplit(" ", 1)[-1], changes[1].split(" from ", 1)[1].split(" to ")[0]
    assert changes[0].startswith("Severity changed from SEV-3 to ")
    assert second_from == first_to  # the second change starts where the first ended
    assert incident.severity.value == changes[1].rsplit(" ", 1)[-1]  # and the incident ends where the last one says
    assert fake_slack.channel(room["id"])["topic"] == f"{incident.severity.value} · Queue stalled"


def test_a_reopen_during_a_publish_is_not_undone(
    replicas: list[tuple[RunningBot, SlackDriver]], fake_slack: FakeSlack, clock: RunningClock
) -> None:
    (bot, driver), (_, other) = replicas
    driver.command("/incident", "sev2 Billing export failing", user=COMMANDER, channel="CGENERAL")
    room = fake_slack.wait_for(lambda: next(iter(incident_rooms(fake_slack)), None))
    fake_slack.join(room["id"], RESPONDER)
    settle_all(replicas, clock)
    form = open_resolve_form(driver, fake_slack, room)
    fake_slack.wait_for(lambda: rows_ahead(bot, "made") == 1)  # the form's head start is done
    # The publish looks up the names its RCA mentions while rendering it; an owner named after the head
    # start was made is looked up by the publish itself.
    publishing = fake_slack.hold("users.info", when=lambda args: args.get("user") == HELPER)
    driver.command("/incident", f"action <@{HELPER}|carol> Alert on stuck exports", user=COMMANDER, channel=room["id"])
    driver.submit(COMMANDER, form, {"Summary": "First fix"})
    assert publishing.reached.wait(10)
    assert "Reopened" in other.command("/incident", "reopen", user=COMMANDER, channel=room["id"]).json()["text"]
    publishing.release()
    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    settle_all(replicas, clock)
    status = other.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert "Status: Active" in status
    again = open_resolve_form(other, fake_slack, room)
    assert "Summary" in all_text(again)


def test_two_replicas_resolving_at_once_publish_once(
    replicas: list[tuple[RunningBot, SlackDriver]], fake_slack: FakeSlack, docs_repo: DocsRepo, clock: RunningClock
) -> None:
    (_, driver), (_, other) = replicas
    driver.command("/incident", "sev2 Double submit", user=COMMANDER, channel="CGENERAL")
    room = fake_slack.wait_for(lambda: next(iter(incident_rooms(fake_slack)), None))
    settle_all(replicas, clock)
    forms = [open_resolve_form(d, fake_slack, room) for d in (driver, other)]
    answers = at_once(
        lambda: driver.submit(COMMANDER, forms[0], {"Summary": "Fixed"}),
        lambda: other.submit(COMMANDER, forms[1], {"Summary": "Fixed"}),
    )
    assert len([a for a in answers if "errors" in a.text]) == 1
    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    settle_all(replicas, clock)
    assert len([s for s in docs_repo.remote_log() if "Double submit" in s]) == 1
    assert len([m for m in fake_slack.messages(room["id"]) if "resolved *Double submit*" in (m["text"] or "")]) == 1
