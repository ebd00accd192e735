"""files.getUploadURLExternal and files.completeUploadExternal of the fake Web API, and the upload URL between
them: what slack_sdk's `files_upload_v2` calls.

The three steps are Slack's: ask for an upload URL and a file id (the declared `length`), POST the bytes
to that URL (raw or multipart; 200 "OK - <size>"), then complete the upload, which shares the files in
one message in the channel (with `initial_comment` as its text) when a channel is given, or keeps them
private when none is. Completing needs the bot in the channel (`not_in_channel`), a `channel_id` that is
a conversation id (`invalid_arguments`, as Slack's pattern check answers), and bytes uploaded for every
file (`file_not_found`); an upload ticket completes once.
"""

from __future__ import annotations

import json
import mimetypes
import re
import secrets
from collections.abc import Callable
from typing import Any

from slack_sim import messages
from slack_sim.state import WORKSPACE_URL, ApiError, Args, Workspace

Handler = Callable[[Workspace, Args], dict[str, Any]]

UPLOAD_PATH = "/upload/v1/"
MAX_ALT_TEXT = 1000
# Slack checks `channel_id` against this pattern before anything else.
_CONVERSATION_ID = re.compile(r"^[CGDZ][A-Z0-9]{8,}$")


def get_upload_url(ws: Workspace, args: Args) -> dict[str, Any]:
    length = args.integer("length", 0)
    if length <= 0:
        raise ApiError("missing_argument")
    if len(args.string("alt_txt")) > MAX_ALT_TEXT:
        raise ApiError("alt_txt_too_large")
    file_id = ws.new_id("F")
    ticket = secrets.token_urlsafe(18)
    ws.files[file_id] = {
        "id": file_id,
        "name": args.string("filename"),
        "title": args.string("filename"),
        "length": length,
        "alt_txt": args.string("alt_txt") or None,
        "data": None,
        "completed": False,
        "created": int(ws.clock()),
        "channels": [],
    }
    ws.upload_tickets[ticket] = file_id
    base = ws.upload_base or "https://files.slack.com"
    return {"upload_url": f"{base}{UPLOAD_PATH}{ticket}", "file_id": file_id}


def receive_upload(ws: Workspace, ticket: str, body: bytes, content_type: str) -> tuple[int, str]:
    """The POST of a file's bytes to its upload URL; returns (status, text) as Slack's upload service does."""
    file_id = ws.upload_tickets.get(ticket)
    if file_id is None or ws.files[file_id]["completed"]:
        return 404, "Not Found"
    data = _multipart_file(body, content_type) if content_type.startswith("multipart/form-data") else body
    if not data:
        return 400, "Bad Request: no file data"
    ws.files[file_id]["data"] = data
    return 200, f"OK - {len(data)}"


def complete_upload(ws: Workspace, args: Args) -> dict[str, Any]:
    wanted = _files_argument(args)
    channel_id = args.string("channel_id")
    if channel_id and not _CONVERSATION_ID.match(channel_id):
        raise ApiError(
            "invalid_arguments",
            messages=[f"[ERROR] input must match regex pattern: {_CONVERSATION_ID.pattern} [json-pointer:/channel_id]"],
        )
    targets = [channel_id] if channel_id else args.ids("channels")
    channels = [_shareable(ws, target) for target in targets]
    found = []
    for entry in wanted:
        stored = ws.files.get(str(entry.get("id") or ""))
        if stored is None or stored["completed"] or stored["data"] is None:
            raise ApiError("file_not_found")
        found.append((stored, entry))
    for stored, entry in found:
        stored["completed"] = True
        if entry.get("title"):
            stored["title"] = str(entry["title"])
    for channel in channels:
        message = messages.add(
            ws,
            channel,
            user=ws.bot_user_id,
            text=args.string("initial_comment"),
            thread_ts=args.string("thread_ts") or None,
        )
        for stored, _ in found:
            stored["channels"].append(channel["id"])
        message["upload"] = True
        message["files"] = [_file_object(ws, stored) for stored, _ in found]
    return {"files": [_file_object(ws, stored) for stored, _ in found]}


def _files_argument(args: Args) -> list[dict[str, Any]]:
    raw = args.raw("files")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise ApiError("invalid_arguments", messages=["[ERROR] files must be a JSON array"]) from None
    if not isinstance(parsed, list) or not parsed or not all(isinstance(f, dict) and f.get("id") for f in parsed):
        raise ApiError("invalid_arguments", messages=["[ERROR] files must be an array of {id, title}"])
    return parsed


def _shareable(ws: Workspace, channel_id: str) -> dict[str, Any]:
    channel = ws.channels.get(channel_id)
    if channel is None or (channel["is_private"] and ws.bot_user_id not in channel["members"]):
        raise ApiError("invalid_channel")
    if channel["is_archived"]:
        raise ApiError("posting_to_channel_denied")
    if ws.bot_user_id not in channel["members"]:
        raise ApiError("not_in_channel")  # unlike chat:write.public posts, a share needs the bot in the channel
    return channel


def _file_object(ws: Workspace, stored: dict[str, Any]) -> dict[str, Any]:
    name = stored["name"]
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {
        "id": stored["id"],
        "created": stored["created"],
        "timestamp": stored["created"],
        "name": name,
        "title": stored["title"],
        "mimetype": mimetype,
        "filetype": kind,
        "pretty_type": kind.upper(),
        "user": ws.bot_user_id,
        "mode": "hosted",
        "editable": False,
        "is_external": False,
        "is_public": bool(stored["channels"]),
        "size": len(stored["data"] or b""),
        "alt_txt": stored["alt_txt"],
        "url_private": f"https://files.slack.com/files-pri/{ws.team_id}-{stored['id']}/{name}",
        "permalink": f"{WORKSPACE_URL}files/{ws.bot_user_id}/{stored['id']}/{name}",
        "channels": list(stored["channels"]),
    }


def _multipart_file(body: bytes, content_type: str) -> bytes:
    """The first part's content of a multipart/form-data body (the form field holding the file)."""
    boundary = content_type.partition("boundary=")[2].strip().strip('"')
    if not boundary:
        return b""
    for part in body.split(b"--" + boundary.encode()):
        head, separator, content = part.partition(b"\r\n\r\n")
        if separator and b"filename=" in head:
            return content.removesuffix(b"\r\n")
    return b""


HANDLERS: dict[str, Handler] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
