"""``SlackDriver``: sends what Slack would send - slash commands, Events API
callbacks, interactivity payloads - signed, to a running app over HTTP."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from slack_sim import payloads
from slack_sim.state import WORKSPACE_DOMAIN

if TYPE_CHECKING:
    from slack_sim.fake import FakeSlack

# Legacy verification token Slack still puts in payloads; apps must not rely on it.
VERIFICATION_TOKEN = "fake-verification-token"
TIMEOUT_SECONDS = 10


@dataclass
class Response:
    """What the app answered."""

    status: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


class SlackDriver:
    """Plays Slack's side of an app's request URL."""

    def __init__(self, app_url: str, signing_secret: str, *, fake: FakeSlack, team_id: str | None = None) -> None:
        self.app_url = app_url
        self.fake = fake
        self.team_id = team_id or fake.team_id
        self._verifier = SignatureVerifier(signing_secret)

    # -- transport ---------------------------------------------------------------
    def raw(
        self, body: bytes, content_type: str, *, timestamp: int | str | None = None, signature: str | None = None
    ) -> Response:
        """POST ``body`` signed for ``timestamp`` (default now) unless ``signature`` is given."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or self._verifier.generate_signature(timestamp=stamp, body=body) or ""
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": sig}
        return self._post(body, headers)

    def unsigned(self, body: bytes | str, headers: dict[str, str]) -> Response:
        """POST exactly ``body`` with exactly ``headers`` (for signature tests)."""
        return self._post(body.encode() if isinstance(body, str) else body, headers)

    def _post(self, body: bytes, headers: dict[str, str]) -> Response:
        request = urllib.request.Request(self.app_url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
                return Response(reply.status, reply.read().decode("utf-8", "replace"), dict(reply.headers.items()))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode("utf-8", "replace"), dict(error.headers.items()))

    def _signed(self, body: str, content_type: str, extra: dict[str, str] | None = None) -> Response:
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self._verifier.generate_signature(timestamp=stamp, body=body) or "",
            **(extra or {}),
        }
        return self._post(body.encode(), headers)

    def interaction(self, payload: dict[str, Any]) -> Response:
        """Deliver an interactivity payload (a button, a form, a shortcut) signed, as Slack would."""
        return self._signed(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    # -- lookups -------------------------------------------------------------------
    def _user_name(self, user: str) -> str:
        found = self.fake.user(user)
        return str(found["name"]) if found else user

    def _channel_name(self, channel: str) -> str:
        found = self.fake.find_channel(channel)
        if found is None:
            return channel
        return "directmessage" if found.get("is_im") else str(found["name"])

    def _channel_type(self, channel: str) -> str:
        found = self.fake.find_channel(channel) or {}
        if found.get("is_im"):
            return "im"
        if found.get("is_mpim"):
            return "mpim"
        return "group" if found.get("is_private") else "channel"

    def _user(self, user: str) -> dict[str, Any]:
        name = self._user_name(user)
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _common(self, user: str) -> dict[str, Any]:
        return {
            "team": {"id": self.team_id, "domain": WORKSPACE_DOMAIN},
            "user": self._user(user),
            "api_app_id": self.fake.app_id,
            "token": VERIFICATION_TOKEN,
            "is_enterprise_install": False,
            "enterprise": None,
        }

    # -- slash commands and events ------------------------------------------------------
    def command(self, command: str, text: str = "", *, user: str, channel: str) -> Response:
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": WORKSPACE_DOMAIN,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self._user_name(user),
            "command": command,
            "text": text,
            "api_app_id": self.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": self.fake.new_response_url(user, channel),
            "trigger_id": self.fake.issue_trigger_id(user),
        }
        return self._signed(urlencode(form), "application/x-www-form-urlencoded")

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Response:
        """Wrap ``event`` in an event_callback envelope and deliver it."""
        inner = dict(event)
        inner.setdefault("event_ts", payloads.action_ts(self.fake.now()))
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.fake.app_id,
            "event": inner,
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(self.fake.now()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(16)}",
        }
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._signed(json.dumps(envelope), "application/json", extra)

    def message(self, channel: str, user: str, text: str, *, thread_ts: str | None = None, **kw: Any) -> Response:
        """A human posts (fake state) and the app gets the ``message`` event."""
        ts = self.fake.post_as_user(channel, user, text, thread_ts=thread_ts)
        stored = self.fake.message(channel, ts) or {}
        event = {**payloads.event_message(stored), "channel": stored.get("channel", channel)}
        event.update(channel_type=self._channel_type(event["channel"]), event_ts=ts, client_msg_id=str(uuid.uuid4()))
        return self.event(event, **kw)

    def _reaction(self, kind: str, user: str, channel: str, ts: str, reaction: str, **kw: Any) -> Response:
        if kind == "reaction_added":
            self.fake.react_as_user(channel, ts, user, reaction)
        else:
            self.fake.unreact_as_user(channel, ts, user, reaction)
        item = self.fake.message(channel, ts) or {}
        event = {
            "type": kind,
            "user": user,
            "reaction": reaction,
            "item_user": item.get("user"),
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": payloads.action_ts(self.fake.now()),
        }
        return self.event(event, **kw)

    def reaction_added(self, user: str, channel: str, ts: str, reaction: str, **kw: Any) -> Response:
        return self._reaction("reaction_added", user, channel, ts, reaction, **kw)

    def reaction_removed(self, user: str, channel: str, ts: str, reaction: str, **kw: Any) -> Response:
        return self._reaction("reaction_removed", user, channel, ts, reaction, **kw)

    def _stored(self, channel: str, ts: str) -> dict[str, Any]:
        found = self.fake.message(channel, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel}")
        return found

    def message_changed(self, channel: str, ts: str, new_text: str, **kw: Any) -> Response:
        previous = payloads.event_message(self._stored(channel, ts))
        self.fake.edit_as_user(channel, ts, new_text)
        now = payloads.action_ts(self.fake.now())
        event = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": channel,
            "channel_type": self._channel_type(channel),
            "ts": now,
            "event_ts": now,
            "message": payloads.event_message(self._stored(channel, ts)),
            "previous_message": previous,
        }
        return self.event(event, **kw)

    def message_deleted(self, channel: str, ts: str, **kw: Any) -> Response:
        previous = payloads.event_message(self._stored(channel, ts))
        self.fake.delete_as_user(channel, ts)
        now = payloads.action_ts(self.fake.now())
        event = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "channel": channel,
            "channel_type": self._channel_type(channel),
            "ts": now,
            "event_ts": now,
            "deleted_ts": ts,
            "previous_message": previous,
        }
        return self.event(event, **kw)

    # -- interactivity ------------------------------------------------------------------
    def _block_actions(
        self, user: str, surface: dict[str, Any], action: dict[str, Any], channel: str | None
    ) -> Response:
        payload = {"type": "block_actions", **self._common(user), "trigger_id": self.fake.issue_trigger_id(user)}
        if payloads.is_view(surface):
            values = payloads.view_payload(surface)["state"]["values"]
            if action["type"] != "button":
                values.setdefault(action["block_id"], {})[action["action_id"]] = {
                    k: v for k, v in action.items() if k not in ("action_id", "block_id", "action_ts", "placeholder")
                }
            payload["container"] = {"type": "view", "view_id": surface["id"]}
            payload["view"] = payloads.view_payload(surface, values)
        else:
            channel_id = channel or str(surface.get("channel"))
            ephemeral = bool(surface.get("is_ephemeral"))
            payload["container"] = {
                "type": "message",
                "message_ts": surface.get("ts"),
                "channel_id": channel_id,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            if not ephemeral:
                payload["message"] = payloads.event_message(surface)
            payload["state"] = {"values": {}}
            payload["response_url"] = self.fake.new_response_url(
                user, channel_id, message_ts=None if ephemeral else surface.get("ts")
            )
        payload["actions"] = [action]
        return self.interaction(payload)

    def click(
        self, user: str, message_or_view: dict[str, Any], button_text: str, *, channel: str | None = None
    ) -> Response:
        """Click the button labelled ``button_text`` in a message or view from the fake."""
        block, element = payloads.find_button(message_or_view, button_text)
        action = {
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id"),
            "text": element.get("text"),
            "type": "button",
            "action_ts": payloads.action_ts(self.fake.now()),
        }
        for key in ("value", "style", "url"):
            if key in element:
                action[key] = element[key]
        return self._block_actions(user, message_or_view, action, channel)

    def select(
        self,
        user: str,
        message_or_view: dict[str, Any],
        placeholder_or_action_id: str,
        option_text_prefix: str,
        *,
        channel: str | None = None,
    ) -> Response:
        """Choose an option in a select menu, overflow, radio or checkbox group."""
        block, element = payloads.find_choice(message_or_view, placeholder_or_action_id)
        entry = payloads.state_entry(element, option_text_prefix, given=True)
        action = {
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id"),
            **entry,
            "action_ts": payloads.action_ts(self.fake.now()),
        }
        if element.get("placeholder"):
            action["placeholder"] = element["placeholder"]
        return self._block_actions(user, message_or_view, action, channel)

    def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> Response:
        """Submit a modal with ``values`` keyed by input label; applies the app's answer to the fake."""
        state_values = payloads.submission_values(view, values)
        self.fake.record_view_submission(view["id"], state_values)
        payload = {
            "type": "view_submission",
            **self._common(user),
            "trigger_id": self.fake.issue_trigger_id(user),
            "view": payloads.view_payload(view, state_values),
            "response_urls": [],
        }
        response = self.interaction(payload)
        if response.status == 200:
            self.fake.apply_view_ack(view["id"], response.json())
        return response

    def message_shortcut(self, user: str, channel: str, message: dict[str, Any], callback_id: str) -> Response:
        payload = {
            "type": "message_action",
            **self._common(user),
            "callback_id": callback_id,
            "trigger_id": self.fake.issue_trigger_id(user),
            "response_url": self.fake.new_response_url(user, channel),
            "action_ts": payloads.action_ts(self.fake.now()),
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "message_ts": message.get("ts"),
            "message": payloads.event_message(message),
        }
        return self.interaction(payload)

    def shortcut(self, user: str, callback_id: str) -> Response:
        """A global shortcut."""
        payload = {
            "type": "shortcut",
            **self._common(user),
            "callback_id": callback_id,
            "trigger_id": self.fake.issue_trigger_id(user),
            "action_ts": payloads.action_ts(self.fake.now()),
        }
        return self.interaction(payload)
