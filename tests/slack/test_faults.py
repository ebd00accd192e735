"""Exactly once under faults: every flow, with each Slack method it calls failing once, ends the same.

For each flow and each Web API method it uses, one call fails: with a 500 that changes nothing, with a
429 (which the bot never waits out inside a call: the job is rescheduled for Slack's Retry-After), or,
for calls that change something, with its answer lost after it took effect. Each time, the end state
is exactly what a fault-free run leaves: one channel, one summary, one announcement, one DM, one
commit, one ✅.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.demo.docs_repo import DocsRepo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, ESCALATION, RESPONDER, all_text, bot_posts, run_cli, settle
from tests.slack.test_resolve import declare, open_resolve_form, room_says
from tests.support.clock import RunningClock

FAULTS = ("500", "429", "lost")
# Calls that only read: a lost answer is the same as a 500 for them.
READS = {"conversations.history", "chat.getPermalink", "users.info", "users.list"}


@dataclass
class World:
    slack: SlackDriver
    fake: FakeSlack
    bot: RunningBot
    clock: RunningClock
    docs: DocsRepo
    env: dict[str, Any]

    def settle(self) -> None:
        settle(self.bot, self.clock)


def inject(fake: FakeSlack, method: str, fault: str) -> None:
    if fault == "500":
        fake.server_error(method)
    elif fault == "429":
        fake.rate_limit(method, retry_after=1)
    else:
        fake.lose_response(method)


def room_of(world: World) -> dict[str, Any]:
    return next(c for c in world.fake.channels() if c["name"].startswith("inc-"))


# ------------------------------------------------------------------------------------------- flows


def declare_sev1(world: World) -> None:
    world.slack.command("/incident", "sev1 Database is down", user=COMMANDER, channel="CGENERAL")


def declared_once(world: World) -> None:
    rooms = [c for c in world.fake.channels() if c["name"].startswith("inc-")]
    assert [c["name"].split("-", 2)[2] for c in rooms] == ["database-is-down"]
    room = rooms[0]
    summaries = bot_posts(world.fake, room["id"], "Immediate escalation")
    assert len(summaries) == 1 and room["topic"] == "SEV-1 · Database is down"
    assert set(room["members"]) >= {COMMANDER, *ESCALATION}
    assert room["pins"] == [summaries[0]["ts"]] if "pins" in room else True
    assert len(bot_posts(world.fake, "CANNOUNCE", "Database is down")) == 1
    for user in ESCALATION:
        assert len(world.fake.dms_to(user)) == 1


def pre_sev3(world: World) -> None:
    declare(world.slack, world.fake, "sev3 Docs agent failing")
    world.settle()


def raise_to_sev2(world: World) -> None:
    world.slack.command("/incident", "sev2", user=COMMANDER, channel=room_of(world)["id"])


def raised_once(world: World) -> None:
    room = world.fake.channel(room_of(world)["id"])
    assert room["topic"] == "SEV-2 · Docs agent failing"
    assert len(bot_posts(world.fake, room["id"], "changed the severity from SEV-3 to SEV-2")) == 1
    assert len(bot_posts(world.fake, "CANNOUNCE", "raised from SEV-3 to *SEV-2*")) == 1
    summary = bot_posts(world.fake, room["id"], "*Severity*")
    assert len(summary) == 1 and "SEV-2" in all_text(summary[0])


def pre_message(world: World) -> None:
    pre_sev3(world)
    world.fake.post_as_user(room_of(world)["id"], RESPONDER, "Restarted the docs agent at 09:12")


def pin_it(world: World) -> None:
    room = room_of(world)["id"]
    ts = next(m["ts"] for m in world.fake.messages(room) if m["user"] == RESPONDER)
    world.slack.reaction_added(COMMANDER, room, ts, "pushpin")


def pinned_once(world: World) -> None:
    room = room_of(world)["id"]
    message = next(m for m in world.fake.messages(room) if m["user"] == RESPONDER)
    assert [(r["name"], r["users"]) for r in message["reactions"]] == [
        ("pushpin", [COMMANDER]),
        ("white_check_mark", [world.fake.bot_user_id]),
    ]
    timeline = world.slack.command("/incident", "timeline", user=COMMANDER, channel=room).json()
    assert all_text(timeline).count("Restarted the docs agent at 09:12") == 1


def add_item(world: World) -> None:
    room = room_of(world)["id"]
    world.slack.command("/incident", f"action <@{RESPONDER}|bob> Add a health check", user=COMMANDER, channel=room)


def item_added_once(world: World) -> None:
    assert len(bot_posts(world.fake, room_of(world)["id"], "added action item *#1*")) == 1


def pre_item(world: World) -> None:
    pre_sev3(world)
    add_item(world)
    world.settle()


def resolve_it(world: World) -> None:
    room = room_of(world)
    form = open_resolve_form(world.slack, world.fake, room)
    world.slack.submit(COMMANDER, form, {"Summary": "Restarted it", "RCA": ["Write an RCA anyway"]})


def resolved_once(world: World) -> None:
    room = room_of(world)["id"]
    assert len([s for s in world.docs.remote_log() if "Docs agent failing" in s]) == 1
    assert len(bot_posts(world.fake, room, "resolved *Docs agent failing*")) == 1
    assert len(bot_posts(world.fake, "CANNOUNCE", "resolved *Docs agent failing*")) == 1
    assert len(bot_posts(world.fake, room, "RCA `DOCS/incidents/")) == 1
    dms = world.fake.dms_to(RESPONDER)
    assert len(dms) == 1 and "Add a health check" in all_text(dms[0])


def pre_resolved(world: World) -> None:
    pre_item(world)
    resolve_it(world)
    room_says(world.fake, room_of(world), "RCA `DOCS/incidents/")
    world.settle()


def mark_done(world: World) -> None:
    world.slack.command("/incident", "done 1", user=COMMANDER, channel=room_of(world)["id"])


def done_once(world: World) -> None:
    room = room_of(world)["id"]
    assert len(bot_posts(world.fake, room, "marked action item *#1* ✅ DONE")) == 1
    rca = next(f for f in world.docs.remote_commit_files() if f.startswith("DOCS/incidents/"))
    assert "| 1 | Add a health check | @bob (UBOB) | ✅ DONE |" in (world.docs.remote_file(rca) or "")


def pre_owner(world: World) -> None:
    world.fake.add_user("UMATT", "matt")  # owns the fixture RCA's open item #3
    world.fake.add_channel("briefing", members=[], channel_id="CBRIEF")


def remind(world: World) -> None:
    result = run_cli(world.env, "remind", clock=world.clock)
    assert result.status == 0, result.err


def reminded_once(world: World) -> None:
    assert len(world.fake.dms_to("UMATT")) == 1


def brief(world: World) -> None:
    result = run_cli({**world.env, "BRIEFING_CHANNEL": "CBRIEF"}, "briefing", clock=world.clock)
    assert result.status == 0, result.err


def briefed_once(world: World) -> None:
    assert len(world.fake.messages("CBRIEF")) == 1


@dataclass(frozen=True)
class Flow:
    prepare: Callable[[World], None] | None
    act: Callable[[World], None]
    check: Callable[[World], None]
    methods: tuple[str, ...]


FLOWS = {
    "declare": Flow(
        None,
        declare_sev1,
        declared_once,
        ("conversations.create", "conversations.invite", "conversations.setTopic", "chat.postMessage", "pins.add"),
    ),
    "severity change": Flow(
        pre_sev3, raise_to_sev2, raised_once, ("conversations.setTopic", "chat.update", "chat.postMessage")
    ),
    "pin": Flow(pre_message, pin_it, pinned_once, ("conversations.history", "chat.getPermalink", "reactions.add")),
    "action item": Flow(pre_sev3, add_item, item_added_once, ("chat.postMessage",)),
    "resolve": Flow(pre_item, resolve_it, resolved_once, ("chat.update", "chat.postMessage", "users.info")),
    "done": Flow(pre_resolved, mark_done, done_once, ("chat.postMessage",)),
    "remind": Flow(pre_owner, remind, reminded_once, ("users.list", "chat.postMessage")),
    "briefing": Flow(pre_owner, brief, briefed_once, ("chat.postMessage",)),
}
CASES = [
    pytest.param(flow, method, fault, id=f"{flow}-{method}-{fault}")
    for flow, spec in FLOWS.items()
    for method in spec.methods
    for fault in FAULTS
    if not (fault == "lost" and method in READS)
]


@pytest.mark.parametrize(("flow", "method", "fault"), CASES)
def test_one_failing_call_still_ends_exactly_once(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    running_bot: RunningBot,
    clock: RunningClock,
    docs_repo: DocsRepo,
    bot_env: dict[str, Any],
    flow: str,
    method: str,
    fault: str,
) -> None:
    world = World(slack, fake_slack, running_bot, clock, docs_repo, bot_env)
    spec = FLOWS[flow]
    if spec.prepare is not None:
        spec.prepare(world)
    inject(fake_slack, method, fault)
    spec.act(world)
    world.settle()
    spec.check(world)
    assert fake_slack.unmet_faults() == []  # the flow did meet the fault


# ------------------------------------------------------------------------ the failures the issue names


def test_the_owners_dm_survives_a_failed_published_notice(world_fixture: World) -> None:
    world = world_fixture
    pre_item(world)
    world.fake.server_error("chat.postMessage", when=lambda args: "RCA `DOCS" in str(args.get("text")))
    resolve_it(world)
    world.settle()
    resolved_once(world)


def test_a_failed_announcement_does_not_repeat_the_rooms_severity_message(world_fixture: World) -> None:
    world = world_fixture
    pre_sev3(world)
    world.fake.server_error("chat.postMessage", when=lambda args: args.get("channel") == "CANNOUNCE")
    raise_to_sev2(world)
    world.settle()
    raised_once(world)


def test_a_failed_pin_does_not_post_the_summary_twice(world_fixture: World) -> None:
    world = world_fixture
    world.fake.server_error("pins.add", times=2)
    declare_sev1(world)
    world.settle()
    declared_once(world)


def test_severity_raised_while_the_channel_is_being_made_is_kept(world_fixture: World) -> None:
    world = world_fixture
    held = world.fake.hold("conversations.create")
    world.slack.command("/incident", "sev3 Racing the setup", user=COMMANDER, channel="CGENERAL")
    assert held.reached.wait(10)
    with world.bot.container.ctx.uow() as uow:
        incident = uow.incidents.list_active()[0]
    world.slack.interaction(
        {
            "type": "view_submission",
            "user": {"id": COMMANDER},
            "view": {
                "id": "V1",
                "type": "modal",
                "hash": "1.x",
                "callback_id": "change_severity",
                "private_metadata": f'{{"incident_id": {incident.id}}}',
                "blocks": [{"type": "input", "block_id": "severity"}],
                "state": {
                    "values": {"severity": {"value": {"type": "static_select", "selected_option": {"value": "SEV-1"}}}}
                },
            },
        }
    )
    held.release()
    world.settle()
    room = room_of(world)
    assert world.fake.channel(room["id"])["topic"] == "SEV-1 · Racing the setup"
    with world.bot.container.ctx.uow() as uow:
        stored = uow.incidents.get(incident.id or 0)
    assert stored is not None and stored.severity.value == "SEV-1"
    assert set(world.fake.channel(room["id"])["members"]) >= set(ESCALATION)


@pytest.fixture
def world_fixture(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    running_bot: RunningBot,
    clock: RunningClock,
    docs_repo: DocsRepo,
    bot_env: dict[str, Any],
) -> World:
    return World(slack, fake_slack, running_bot, clock, docs_repo, bot_env)


def test_the_warning_of_a_job_that_failed_survives_a_failed_first_telling(world_fixture: World) -> None:
    world = world_fixture
    world.slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    form = world.fake.wait_for(lambda: world.fake.views())[-1]
    world.fake.fail_next("conversations.create", "restricted_action")  # the declare fails for good
    world.fake.server_error("chat.postEphemeral")  # and so does the first try to say so
    world.slack.submit(COMMANDER, form, {"Title": "Cannot open", "Severity": "SEV-2"})
    world.settle()
    told = [e for e in world.fake.ephemerals(user=COMMANDER) if "could not set up the incident channel" in all_text(e)]
    assert len(told) == 1 and "restricted_action" in all_text(told[0])
    assert world.fake.unmet_faults() == []
