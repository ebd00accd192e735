"""The fake's bookmarks and its archiving and unarchiving, through the real slack_sdk WebClient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_sim import FakeSlack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        running.add_user("U1", "alice")
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def error_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return str(caught.value.response["error"])


def test_bookmarks_are_added_listed_and_checked(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("inc-1", members=["U1"])
    added = client.bookmarks_add(channel_id=channel, title="Runbook", type="link", link="https://docs.example/rb")
    assert added["bookmark"]["channel_id"] == channel and added["bookmark"]["type"] == "link"
    listed = client.bookmarks_list(channel_id=channel)["bookmarks"]
    assert [(b["title"], b["link"]) for b in listed] == [("Runbook", "https://docs.example/rb")]
    assert fake.bookmarks(channel) == listed
    assert error_of(client.bookmarks_add, channel_id=channel, title="x", type="file") == "invalid_bookmark_type"
    assert error_of(client.bookmarks_add, channel_id=channel, title="x", type="link", link="docs") == "invalid_link"
    assert error_of(client.bookmarks_list, channel_id="C404") == "channel_not_found"
    for number in range(99):
        client.bookmarks_add(channel_id=channel, title=f"{number}", type="link", link="https://docs.example/")
    full = error_of(client.bookmarks_add, channel_id=channel, title="101st", type="link", link="https://x.example/")
    assert full == "too_many_bookmarks"


def test_an_archived_channel_refuses_posts_until_it_is_unarchived(fake: FakeSlack, client: WebClient) -> None:
    channel = fake.add_channel("inc-2", members=["U1"])
    assert error_of(client.conversations_unarchive, channel=channel) == "not_archived"
    client.conversations_archive(channel=channel)
    assert client.conversations_info(channel=channel)["channel"]["is_archived"] is True
    assert error_of(client.conversations_archive, channel=channel) == "already_archived"
    assert error_of(client.chat_postMessage, channel=channel, text="late") == "is_archived"
    assert error_of(client.conversations_invite, channel=channel, users="U1") == "is_archived"
    listed = client.conversations_list(exclude_archived=True)["channels"]
    assert channel not in [c["id"] for c in listed]

    client.conversations_unarchive(channel=channel)
    assert fake.channel(channel)["is_archived"] is False
    assert client.chat_postMessage(channel=channel, text="back")["ok"]
    assert error_of(client.conversations_unarchive, channel="C404") == "channel_not_found"
    assert error_of(client.conversations_unarchive, channel=fake.dm_channel("U1")) == (
        "method_not_supported_for_channel_type"
    )
