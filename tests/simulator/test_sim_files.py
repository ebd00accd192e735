"""File uploads in the fake Web API (files.getUploadURLExternal, the upload POST, files.completeUploadExternal),
exercised through the real slack_sdk WebClient's files_upload_v2 and its two calls one by one."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_sim import FakeSlack

CHANNEL = "CDIGEST0001"
PNG = b"\x89PNG\r\n\x1a\n" + b"chart" * 20


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        running.add_user("U1", "alice")
        running.add_channel("digest", members=["U1"], channel_id=CHANNEL)
        running.add_channel("elsewhere", members=["U1"], channel_id="COTHER0001", bot_is_member=False)
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def error_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        call(**kwargs)
    return str(caught.value.response["error"])


def test_files_upload_v2_shares_every_file_in_one_message(client: WebClient, fake: FakeSlack) -> None:
    done = client.files_upload_v2(
        file_uploads=[
            {"file": PNG, "filename": "a.png", "title": "Chart A", "alt_txt": "Chart A"},
            {"file": PNG + b"b", "filename": "b.png", "title": "Chart B"},
        ],
        channel=CHANNEL,
        initial_comment="The week's charts",
    )
    assert [f["name"] for f in done["files"]] == ["a.png", "b.png"]
    assert done["files"][0]["mimetype"] == "image/png" and done["files"][0]["channels"] == [CHANNEL]
    [message] = fake.messages(CHANNEL)
    assert message["text"] == "The week's charts" and message["user"] == fake.bot_user_id
    assert [(f["name"], f["title"], f["size"]) for f in message["files"]] == [
        ("a.png", "Chart A", len(PNG)),
        ("b.png", "Chart B", len(PNG) + 1),
    ]
    stored = fake.uploaded_files()
    assert [(f["data"], f["completed"]) for f in stored] == [(PNG, True), (PNG + b"b", True)]
    history = client.conversations_history(channel=CHANNEL)["messages"]
    assert [f["name"] for f in history[0]["files"]] == ["a.png", "b.png"]  # found again by a retry


def test_an_upload_without_a_channel_stays_private(client: WebClient, fake: FakeSlack) -> None:
    done = client.files_upload_v2(file=PNG, filename="private.png")
    assert done["file"]["channels"] == [] and done["file"]["is_public"] is False
    assert fake.messages(CHANNEL) == []


def test_sharing_needs_the_bot_in_the_channel_and_a_conversation_id(client: WebClient, fake: FakeSlack) -> None:
    assert error_of(client.files_upload_v2, file=PNG, filename="x.png", channel="COTHER0001") == "not_in_channel"
    assert error_of(client.files_upload_v2, file=PNG, filename="x.png", channel="CNOWHERE01") == "invalid_channel"
    assert error_of(client.files_upload_v2, file=PNG, filename="x.png", channel="U1") == "invalid_arguments"
    assert fake.messages(CHANNEL) == [] and fake.messages("COTHER0001") == []


def test_the_steps_one_by_one_and_their_errors(client: WebClient, fake: FakeSlack) -> None:
    assert error_of(client.files_getUploadURLExternal, filename="x.png", length=0) == "missing_argument"
    assert error_of(client.files_getUploadURLExternal, filename="x.png", length=3, alt_txt="a" * 1001) == (
        "alt_txt_too_large"
    )
    ticket = client.files_getUploadURLExternal(filename="x.png", length=len(PNG))
    assert ticket["upload_url"].startswith(fake.base_http + "/upload/v1/") and ticket["file_id"].startswith("F")
    files = [{"id": ticket["file_id"], "title": "X"}]
    # Completing before the bytes arrived: Slack cannot find the file from the upload ticket.
    assert error_of(client.files_completeUploadExternal, files=files, channel_id=CHANNEL) == "file_not_found"
    with urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=PNG, method="POST")) as answer:
        assert answer.status == 200 and answer.read().decode() == f"OK - {len(PNG)}"
    assert client.files_completeUploadExternal(files=files, channel_id=CHANNEL)["files"][0]["title"] == "X"
    # A ticket completes once, and its URL takes no more bytes.
    assert error_of(client.files_completeUploadExternal, files=files, channel_id=CHANNEL) == "file_not_found"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(ticket["upload_url"], data=PNG, method="POST"))
    assert refused.value.code == 404
    not_json = {"files": "not json", "channel_id": CHANNEL}
    assert error_of(client.api_call, api_method="files.completeUploadExternal", params=not_json) == "invalid_arguments"
    assert len(fake.messages(CHANNEL)) == 1


def test_a_multipart_upload_keeps_only_the_files_bytes(client: WebClient, fake: FakeSlack) -> None:
    ticket = client.files_getUploadURLExternal(filename="m.png", length=len(PNG))
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="m.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + PNG + b"\r\n--XyZ--\r\n"
    )
    request = urllib.request.Request(
        ticket["upload_url"], data=body, method="POST", headers={"Content-Type": "multipart/form-data; boundary=XyZ"}
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200
    client.files_completeUploadExternal(files=json.loads(json.dumps([{"id": ticket["file_id"]}])), channel_id=CHANNEL)
    assert fake.uploaded_files()[0]["data"] == PNG
