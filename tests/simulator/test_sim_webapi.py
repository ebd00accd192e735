"""The fake Web API, exercised through the real slack_sdk WebClient."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_sim import FakeSlack, methods_views

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        running.add_user("U1", "alice", real_name="Alice Liddell", tz="Europe/Berlin", tz_offset=3600)
        running.add_user("U2", "bob")
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    data = caught.value.response.data
    assert isinstance(data, dict)
    return data


def test_url_shape_and_auth_test(fake: FakeSlack, client: WebClient) -> None:
    assert fake.url.startswith("http://127.0.0.1:") and fake.url.endswith("/api/")
    assert fake.url == fake.base_http + "/api/"
    result = client.auth_test()
    assert (result["user_id"], result["team_id"], result["bot_id"]) == ("UBOT", "T0TEST", "BBOT")


def test_auth_errors(fake: FakeSlack) -> None:
    assert error_of(WebClient(token="xoxb-wrong", base_url=fake.url).auth_test)["error"] == "invalid_auth"
    assert error_of(WebClient(base_url=fake.url).auth_test)["error"] == "not_authed"
    bot = WebClient(token="xoxb-test", base_url=fake.url)
    assert error_of(bot.apps_connections_open, app_token="xoxb-test")["error"] == "invalid_auth"
    fake.socket_mode_url = "ws://127.0.0.1:1/link"
    assert bot.apps_connections_open(app_token="xapp-1-abc")["url"] == "ws://127.0.0.1:1/link"
    assert error_of(bot.api_call, api_method="nope.nothing")["error"] == "unknown_method"


def test_create_channel_and_name_rules(fake: FakeSlack, client: WebClient) -> None:
    channel = client.conversations_create(name="inc-42-db", is_private=True)["channel"]
    assert channel["id"].startswith("C") and channel["is_private"] is True and channel["is_member"]
    stored = fake.channel(channel["id"])
    assert stored is not None and stored["creator"] == "UBOT" and "UBOT" in stored["members"]
    assert error_of(client.conversations_create, name="inc-42-db")["error"] == "name_taken"
    assert error_of(client.conversations_create, name="Inc 42")["error"] == "invalid_name_specials"
    assert error_of(client.conversations_create, name="x" * 81)["error"] == "invalid_name_maxlength"
    assert error_of(client.conversations_create, name="")["error"] == "invalid_name_required"


def test_invite_rules(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("inc-1", members=["U1"])
    assert error_of(client.conversations_invite, channel=channel, users="U1")["error"] == "already_in_channel"
    client.conversations_invite(channel=channel, users=["U1", "U2"])  # U2 is new: succeeds
    assert fake.channel(channel)["members"] == ["UBOT", "U1", "U2"]
    missing = error_of(client.conversations_invite, channel=channel, users="U1,U404")
    assert missing["error"] == "user_not_found"
    assert missing["errors"] == [{"user": "U404", "ok": False, "error": "user_not_found"}]
    assert error_of(client.conversations_invite, channel=channel, users="UBOT")["error"] == "cant_invite_self"
    assert error_of(client.conversations_invite, channel="C404", users="U1")["error"] == "channel_not_found"
    outside = fake.add_channel("random", bot_is_member=False)
    assert error_of(client.conversations_invite, channel=outside, users="U1")["error"] == "not_in_channel"


def test_topic_purpose_and_archive(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("inc-2")
    result = client.conversations_setTopic(channel=channel, topic="SEV1 | DB down")
    assert result["channel"]["topic"]["value"] == "SEV1 | DB down"
    assert error_of(client.conversations_setTopic, channel=channel, topic="x" * 251)["error"] == "too_long"
    assert client.conversations_setTopic(channel=channel, topic="")["channel"]["topic"]["value"] == ""
    assert error_of(client.api_call, api_method="conversations.setTopic", json={"channel": channel}) == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["[ERROR] missing required field: topic"]},
    }
    client.conversations_setTopic(channel=channel, topic="SEV1 | DB down")
    client.conversations_setPurpose(channel=channel, purpose="Resolve the outage")
    client.conversations_rename(channel=channel, name="inc-2-resolved")
    client.conversations_archive(channel=channel)
    stored = fake.channel(channel)
    assert stored is not None
    assert (stored["topic"], stored["purpose"], stored["name"]) == (
        "SEV1 | DB down",
        "Resolve the outage",
        "inc-2-resolved",
    )
    assert stored["is_archived"] is True
    assert error_of(client.chat_postMessage, channel=channel, text="late")["error"] == "is_archived"


def test_post_to_channel_name_and_user_dm(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("incidents")
    posted = client.chat_postMessage(channel="#incidents", text="hello")
    assert posted["channel"] == channel and posted["message"]["bot_id"] == "BBOT"
    dm = client.chat_postMessage(channel="U1", text="You are incident commander")
    assert dm["channel"].startswith("D")
    assert [m["text"] for m in fake.dms_to("U1")] == ["You are incident commander"]
    assert client.conversations_open(users="U1")["channel"]["id"] == dm["channel"]
    private = fake.add_channel("secret", is_private=True, bot_is_member=False)
    assert error_of(client.chat_postMessage, channel=private, text="x")["error"] == "channel_not_found"
    with pytest.warns(UserWarning, match="text"):  # slack_sdk itself warns about the missing text
        assert error_of(client.chat_postMessage, channel=channel)["error"] == "no_text"
    assert error_of(client.chat_postMessage, channel=channel, text="x" * 40001)["error"] == "msg_too_long"


def test_invalid_blocks_are_reported_like_slack(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("incidents")
    header: dict[str, Any] = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    data = error_of(client.chat_postMessage, channel=channel, text="fallback", blocks=[header])
    assert data["error"] == "invalid_blocks"
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text]"
    ]
    assert fake.messages(channel) == []
    header["text"]["text"] = "x" * 150
    client.chat_postMessage(channel=channel, text="fallback", blocks=[header])
    assert fake.messages(channel)[0]["blocks"][0]["block_id"]  # Slack assigns block ids


def test_update_delete_and_permalink(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("incidents", members=["U1"])
    ts = client.chat_postMessage(channel=channel, text="status: investigating")["ts"]
    updated = client.chat_update(channel=channel, ts=ts, text="status: mitigated")
    assert updated["text"] == "status: mitigated"
    assert fake.messages(channel)[0]["edited"]["user"] == "UBOT"
    human = fake.post_as_user(channel, "U1", "not yours")
    assert error_of(client.chat_update, channel=channel, ts=human, text="x")["error"] == "cant_update_message"
    assert error_of(client.chat_update, channel=channel, ts="1.000001", text="x")["error"] == "message_not_found"
    reply = client.chat_postMessage(channel=channel, text="in thread", thread_ts=ts)["ts"]
    assert client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"] == (
        f"https://fake-workspace.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    )
    assert client.chat_getPermalink(channel=channel, message_ts=reply)["permalink"].endswith(
        f"/p{reply.replace('.', '')}?thread_ts={ts}&cid={channel}"
    )
    client.chat_delete(channel=channel, ts=reply)
    assert [m["ts"] for m in fake.messages(channel)] == [ts, human]


def test_reactions(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("incidents", members=["U1", "U2"])
    ts = fake.post_as_user(channel, "U1", "help")
    fake.react_as_user(channel, ts, "U2", "eyes")
    client.reactions_add(channel=channel, timestamp=ts, name="eyes")
    assert error_of(client.reactions_add, channel=channel, timestamp=ts, name="eyes")["error"] == "already_reacted"
    assert error_of(client.reactions_add, channel=channel, timestamp=ts, name=":eyes:")["error"] == "invalid_name"
    assert error_of(client.reactions_add, channel=channel, timestamp="1.2", name="x")["error"] == "message_not_found"
    got = client.reactions_get(channel=channel, timestamp=ts)["message"]["reactions"]
    assert got == [{"name": "eyes", "users": ["U2", "UBOT"], "count": 2}]
    client.reactions_remove(channel=channel, timestamp=ts, name="eyes")
    assert error_of(client.reactions_remove, channel=channel, timestamp=ts, name="eyes")["error"] == "no_reaction"
    assert fake.messages(channel)[0]["reactions"] == [{"name": "eyes", "users": ["U2"], "count": 1}]


def test_history_and_replies(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("incidents", members=["U1"])
    first = fake.post_as_user(channel, "U1", "first")
    parent = client.chat_postMessage(channel=channel, text="parent")["ts"]
    reply_one = fake.post_as_user(channel, "U1", "reply 1", thread_ts=parent)
    reply_two = client.chat_postMessage(channel=channel, text="reply 2", thread_ts=reply_one)["ts"]
    last = fake.post_as_user(channel, "U1", "last")
    history = client.conversations_history(channel=channel)["messages"]
    assert [m["ts"] for m in history] == [last, parent, first]
    assert history[1]["reply_count"] == 2 and history[1]["thread_ts"] == parent
    window = client.conversations_history(channel=channel, oldest=first, latest=last, inclusive=True)
    assert [m["ts"] for m in window["messages"]] == [last, parent, first]
    window = client.conversations_history(channel=channel, oldest=first, latest=last)
    assert [m["ts"] for m in window["messages"]] == [parent]
    page = client.conversations_history(channel=channel, limit=2)
    assert page["has_more"] is True and len(page["messages"]) == 2
    rest = client.conversations_history(channel=channel, limit=2, cursor=page["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in rest["messages"]] == [first]
    # A reply's ts gives the whole thread, parent first.
    for ts in (parent, reply_two):
        thread = client.conversations_replies(channel=channel, ts=ts)["messages"]
        assert [m["ts"] for m in thread] == [parent, reply_one, reply_two]
        assert thread[2]["parent_user_id"] == "UBOT"
    only_new = client.conversations_replies(channel=channel, ts=parent, oldest=reply_one)["messages"]
    assert [m["ts"] for m in only_new] == [parent, reply_two]
    assert error_of(client.conversations_replies, channel=channel, ts="1.1")["error"] == "thread_not_found"
    assert [m["ts"] for m in fake.messages(channel, include_replies=False)] == [first, parent, last]


def test_ts_values_strictly_increase(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("incidents")
    stamps = [client.chat_postMessage(channel=channel, text=str(i))["ts"] for i in range(5)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert abs(float(stamps[0]) - time.time()) < 60


def test_users_pagination_lookup_and_info(fake: FakeSlack, client: WebClient) -> None:
    for n in range(3, 8):
        fake.add_user(f"U{n}", f"user{n}")
    seen: list[str] = []
    cursor = None
    while True:
        page = client.users_list(limit=3, cursor=cursor)
        assert len(page["members"]) <= 3
        seen += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == ["UBOT", "U1", "U2", "U3", "U4", "U5", "U6", "U7"]
    info = client.users_info(user="U1")["user"]
    assert (info["real_name"], info["tz"], info["tz_offset"], info["is_bot"]) == (
        "Alice Liddell",
        "Europe/Berlin",
        3600,
        False,
    )
    assert info["profile"]["display_name"] == "alice"
    assert error_of(client.users_info, user="U404")["error"] == "user_not_found"
    assert client.users_lookupByEmail(email="bob@example.com")["user"]["id"] == "U2"
    assert error_of(client.users_lookupByEmail, email="x@example.com")["error"] == "users_not_found"
    assert error_of(client.users_list, limit=2, cursor="garbage")["error"] == "invalid_cursor"


def test_views_open_trigger_rules(fake: FakeSlack, client: WebClient, monkeypatch: pytest.MonkeyPatch) -> None:
    trigger = fake.issue_trigger_id("U1")
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["state"] == {"values": {}} and view["hash"]
    stored = fake.views()[0]
    assert (stored["user"], stored["callback_id"], stored["trigger_id"]) == ("U1", "declare", trigger)
    assert error_of(client.views_open, trigger_id=trigger, view=MODAL)["error"] == "exchanged_trigger_id"
    assert error_of(client.views_open, trigger_id="1.2.abc", view=MODAL)["error"] == "invalid_trigger_id"
    monkeypatch.setattr(methods_views, "TRIGGER_TTL_SECONDS", 0.05)
    stale = fake.issue_trigger_id("U1")
    time.sleep(0.1)
    assert error_of(client.views_open, trigger_id=stale, view=MODAL)["error"] == "expired_trigger_id"
    bad = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    data = error_of(client.views_open, trigger_id=fake.issue_trigger_id("U1"), view=bad)
    assert data["error"] == "invalid_arguments"
    assert data["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title]"
    ]


def test_views_update_and_hash_conflict(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id=fake.issue_trigger_id("U1"), view={**MODAL, "external_id": "ext-1"})
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]
    changed = {**MODAL, "title": {"type": "plain_text", "text": "Step 2"}, "external_id": "ext-1"}
    updated = client.views_update(view_id=view_id, hash=first_hash, view=changed)["view"]
    assert updated["id"] == view_id and updated["hash"] != first_hash
    assert error_of(client.views_update, view_id=view_id, hash=first_hash, view=changed)["error"] == "hash_conflict"
    client.views_update(external_id="ext-1", view={**changed, "title": {"type": "plain_text", "text": "Step 3"}})
    assert [v["title"]["text"] for v in fake.views()] == ["Step 3"]
    assert error_of(client.views_update, view_id="V404", view=changed)["error"] == "not_found"
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    assert client.views_publish(user_id="U1", view=home)["view"]["type"] == "home"


def test_fail_next_and_rate_limit(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("incidents")
    fake.fail_next("chat.postMessage", "internal_error", times=2)
    for _ in range(2):
        assert error_of(client.chat_postMessage, channel=channel, text="x")["error"] == "internal_error"
    assert client.chat_postMessage(channel=channel, text="x")["ok"]
    fake.rate_limit("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=channel, text="y")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] in ("7", ["7"])
    assert caught.value.response["error"] == "ratelimited"
    assert [m["text"] for m in fake.messages(channel)] == ["x"]
    assert len(fake.calls("chat.postMessage")) == 4
    assert fake.calls("chat.postMessage")[-1][1] == {"channel": channel, "text": "y"}


def test_form_encoded_and_query_arguments(fake: FakeSlack) -> None:
    channel = fake.add_channel("incidents")
    request = urllib.request.Request(
        fake.url + f"chat.postMessage?channel={channel}",
        data=b"text=hi&blocks=%5B%7B%22type%22%3A%22divider%22%7D%5D",
        headers={"Authorization": "Bearer xoxb-test", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert b'"ok": true' in reply.read()
    assert fake.messages(channel)[0]["blocks"][0]["type"] == "divider"
    with urllib.request.urlopen(fake.url + f"conversations.info?token=xoxb-test&channel={channel}") as reply:
        assert b'"name": "incidents"' in reply.read()


def test_response_urls_and_wait_for(fake: FakeSlack) -> None:
    channel = fake.add_channel("incidents")
    url = fake.new_response_url("U1", channel)
    request = urllib.request.Request(
        url, data=b'{"text": "done", "response_type": "in_channel"}', headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert reply.read() == b"ok"
    assert fake.responses(user="U1")[0]["text"] == "done"
    assert fake.responses(user="U2") == []
    assert fake.wait_for(lambda: fake.messages(channel))[0]["text"] == "done"
    with pytest.raises(AssertionError, match="still falsy"):
        fake.wait_for(lambda: fake.ephemerals(user="U1"), timeout=0.1)


def test_views_push_stack(fake: FakeSlack, client: WebClient) -> None:
    assert error_of(client.views_push, trigger_id=fake.issue_trigger_id("U1"), view=MODAL)["error"] == "not_found"
    root = client.views_open(trigger_id=fake.issue_trigger_id("U1"), view=MODAL)["view"]
    for _ in range(2):
        pushed = client.views_push(trigger_id=fake.issue_trigger_id("U1"), view=MODAL)["view"]
        assert pushed["root_view_id"] == root["id"]
    assert error_of(client.views_push, trigger_id=fake.issue_trigger_id("U1"), view=MODAL)["error"] == (
        "push_limit_reached"
    )
    assert [v["is_open"] for v in fake.views()] == [True, True, True]
    fake.apply_view_ack(pushed["id"], {"response_action": "clear"})
    assert [v["is_open"] for v in fake.views()] == [False, False, False]
