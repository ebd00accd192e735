"""The pagers: PagerDuty's Events API v2, Opsgenie's Alert API, and a signed generic webhook."""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import SecretStr

from bot.core.paging import (
    OPSGENIE_MESSAGE_LIMIT,
    PageAction,
    PageEvent,
    Pager,
    page_summary,
    severity_level,
)
from bot.paging.transport import answer_field, encode_json, post_json

DEFAULT_PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
DEFAULT_OPSGENIE_API_URL = "https://api.opsgenie.com"

_OPSGENIE_DESCRIPTION_LIMIT = 15000
_PAGERDUTY_SEVERITY = {1: "critical", 2: "error", 3: "warning"}


def _details(event: PageEvent) -> dict[str, str]:
    # Never the title: a private incident's pages must not carry it, and the summary has it otherwise.
    details = {
        "incident_id": str(event.incident_id),
        "severity": event.severity,
        "private": "true" if event.private else "false",
        "declared_by": event.declared_by,
    }
    if event.link:
        details["slack_channel"] = event.link
    return details


class PagerDutyPager:
    """Pages through a PagerDuty service's Events API v2 integration."""

    name = "PagerDuty"

    def __init__(self, routing_key: SecretStr, url: str = DEFAULT_PAGERDUTY_EVENTS_URL, timeout: float = 10) -> None:
        self._routing_key = routing_key
        self._url = url
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"PagerDutyPager(url={self._url!r})"

    def send(self, event: PageEvent) -> str:
        """Trigger or resolve the PagerDuty alert keyed by the event's dedup_key."""
        key = self._routing_key.get_secret_value()
        document: dict[str, object] = {
            "routing_key": key,
            "event_action": str(event.action),
            "dedup_key": event.dedup_key,
        }
        if event.action is PageAction.TRIGGER:
            document["payload"] = {
                "summary": page_summary(event),
                "source": event.source,
                "severity": pagerduty_severity(event.severity),
                "custom_details": _details(event),
            }
            if event.link:
                document["links"] = [{"href": event.link, "text": "Incident channel in Slack"}]
        answer = post_json(
            service=self.name,
            label=self.name,
            url=self._url,
            body=encode_json(document),
            headers={},
            timeout=self._timeout,
            secrets=(key,),
        )
        echoed = answer_field(answer.body, "dedup_key")
        return f"{self.name} {answer.status}" + (f" dedup_key={echoed}" if echoed else "")


def pagerduty_severity(severity: str) -> str:
    """PagerDuty's severity for a SEV level: SEV-1 critical, SEV-2 error, SEV-3 warning, lower info."""
    return _PAGERDUTY_SEVERITY.get(max(1, severity_level(severity)), "info")


class OpsgeniePager:
    """Pages through an Opsgenie API integration; the dedup_key is the alert's alias."""

    name = "Opsgenie"

    def __init__(self, api_key: SecretStr, url: str = DEFAULT_OPSGENIE_API_URL, timeout: float = 10) -> None:
        self._api_key = api_key
        self._url = url.rstrip("/")
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"OpsgeniePager(url={self._url!r})"

    def send(self, event: PageEvent) -> str:
        """Create the alert, or close it by its alias."""
        key = self._api_key.get_secret_value()
        document: dict[str, object]
        if event.action is PageAction.TRIGGER:
            url = f"{self._url}/v2/alerts"
            document = {
                "message": page_summary(event, limit=OPSGENIE_MESSAGE_LIMIT),
                "alias": event.dedup_key,
                "description": _opsgenie_description(event),
                "priority": opsgenie_priority(event.severity),
                "source": event.source,
                "tags": ["incident-bot", event.severity],
                "details": _details(event),
            }
        else:
            alias = urllib.parse.quote(event.dedup_key, safe="")
            url = f"{self._url}/v2/alerts/{alias}/close?identifierType=alias"
            document = {"source": event.source, "note": f"{event.severity} #{event.incident_id} was resolved in Slack."}
        answer = post_json(
            service=self.name,
            label=self.name,
            url=url,
            body=encode_json(document),
            headers={"Authorization": f"GenieKey {key}"},
            timeout=self._timeout,
            secrets=(key,),
        )
        request_id = answer_field(answer.body, "requestId")
        return f"{self.name} {answer.status}" + (f" request {request_id}" if request_id else "")


def opsgenie_priority(severity: str) -> str:
    """Opsgenie's priority for a SEV level: SEV-1 is P1, down to P5 for SEV-5 and below."""
    return f"P{min(5, max(1, severity_level(severity)))}"


def _opsgenie_description(event: PageEvent) -> str:
    lines = [page_summary(event, limit=_OPSGENIE_DESCRIPTION_LIMIT), f"Declared by Slack user {event.declared_by}."]
    if event.link:
        lines.append(f"Incident channel: {event.link}")
    return "\n".join(lines)


class WebhookPager:
    """POSTs the event as JSON to any URL, signed so the receiver can tell it came from this bot."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: SecretStr | None,
        timeout: float = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookPager(host={_host(self._url)!r}, signed={self._secret is not None})"

    def send(self, event: PageEvent) -> str:
        """POST the event, with a timestamp and (when a secret is set) a signature over both."""
        now = self._clock()
        timestamp = str(int(now))
        body = encode_json(
            {
                "action": str(event.action),
                "dedup_key": event.dedup_key,
                "incident_id": event.incident_id,
                "severity": event.severity,
                "title": None if event.private else event.title,
                "private": event.private,
                "summary": page_summary(event),
                "link": event.link,
                "source": event.source,
                "sent_at": datetime.fromtimestamp(int(now), UTC).isoformat().replace("+00:00", "Z"),
            }
        )
        headers = {"X-Incident-Bot-Timestamp": timestamp}
        secrets: tuple[str, ...] = ()
        if self._secret is not None:
            secret = self._secret.get_secret_value()
            headers["X-Incident-Bot-Signature"] = webhook_signature(secret=secret, timestamp=timestamp, body=body)
            secrets = (secret,)
        # A webhook URL often carries its own token in the path: errors name the host only.
        answer = post_json(
            service=self.name,
            label=f"{self.name} ({_host(self._url)})",
            url=self._url,
            body=body,
            headers=headers,
            timeout=self._timeout,
            secrets=secrets,
        )
        return f"{self.name} {answer.status}"


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or "?"


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-Incident-Bot-Signature value: v1=<hex HMAC-SHA256 of "v1:{timestamp}:{body}">."""
    base = b"v1:" + timestamp.encode("ascii") + b":" + body
    return "v1=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verify_webhook_signature(
    *, secret: str, timestamp: str, body: bytes, signature: str, now: float, tolerance: float = 300
) -> bool:
    """True when the signature is ours for this body and the timestamp is within `tolerance` seconds of now."""
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    # An old timestamp is a replay, however good its signature.
    if abs(now - int(timestamp)) > tolerance:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected.encode("utf-8"), signature.encode("utf-8"))


def build_pagers(
    *,
    pagerduty_routing_key: SecretStr | None,
    pagerduty_events_url: str,
    opsgenie_api_key: SecretStr | None,
    opsgenie_api_url: str,
    webhook_url: str | None,
    webhook_secret: SecretStr | None,
    timeout: float = 10,
) -> list[Pager]:
    """One pager for each service that is configured (none, one, or several at once)."""
    pagers: list[Pager] = []
    # An empty value (a variable set to "") means not configured, not a key of length zero.
    if pagerduty_routing_key is not None and pagerduty_routing_key.get_secret_value():
        pagers.append(PagerDutyPager(pagerduty_routing_key, url=pagerduty_events_url, timeout=timeout))
    if opsgenie_api_key is not None and opsgenie_api_key.get_secret_value():
        pagers.append(OpsgeniePager(opsgenie_api_key, url=opsgenie_api_url, timeout=timeout))
    if webhook_url:
        secret = webhook_secret if webhook_secret is not None and webhook_secret.get_secret_value() else None
        pagers.append(WebhookPager(webhook_url, secret, timeout=timeout))
    return pagers
