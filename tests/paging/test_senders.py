"""The pagers, seen from the receiving end: what PagerDuty, Opsgenie or a webhook would be sent."""

from __future__ import annotations

import socket
import traceback
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from bot.core.paging import PageAction, PageEvent, Pager, PagingError, dedup_key_for
from bot.paging import OpsgeniePager, PagerDutyPager, WebhookPager, build_pagers, verify_webhook_signature
from tests.paging.receiver import FakeReceiver, receiving

ROUTING_KEY = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY00"
GENIE_KEY = "eb243592-faa2-4ba2-a551-1afdf565c889"
WEBHOOK_SECRET = "whsec-7d1f0c2b9a"
SECRETS = (ROUTING_KEY, GENIE_KEY, WEBHOOK_SECRET)
NOW = 1_714_557_600.0  # 2024-05-01 10:00:00 UTC
TITLE = "Gateway auth outage after the Vault rotation"
DEDUP_KEY = dedup_key_for(incident_id=12, declared_at=datetime(2024, 5, 1, 9, 58, 7, tzinfo=UTC), workspace="T0ACME")

PagerFactory = Callable[[str, float], Pager]


def event(
    *, action: PageAction = PageAction.TRIGGER, severity: str = "SEV-1", private: bool = False, title: str = TITLE
) -> PageEvent:
    return PageEvent(
        action=action,
        dedup_key=DEDUP_KEY,
        incident_id=12,
        severity=severity,
        title=title,
        private=private,
        declared_by="U0DECLARER",
        link="https://acme.slack.com/archives/C0INCIDENT",
    )


def pagerduty(url: str, timeout: float = 5) -> Pager:
    return PagerDutyPager(SecretStr(ROUTING_KEY), url=f"{url}/v2/enqueue", timeout=timeout)


def opsgenie(url: str, timeout: float = 5) -> Pager:
    return OpsgeniePager(SecretStr(GENIE_KEY), url=url, timeout=timeout)


def webhook(url: str, timeout: float = 5) -> Pager:
    path = f"{url}/hooks/T0ACME/s3cr3t-path-token"
    return WebhookPager(path, SecretStr(WEBHOOK_SECRET), timeout=timeout, clock=lambda: NOW)


EVERY_PAGER = pytest.mark.parametrize("make", [pagerduty, opsgenie, webhook], ids=["pagerduty", "opsgenie", "webhook"])


def failure(pager: Pager, page: PageEvent) -> PagingError:
    with pytest.raises(PagingError) as raised:
        pager.send(page)
    assert raised.value.service == pager.name
    return raised.value


def assert_no_secret(error: PagingError) -> None:
    told = [str(error), repr(error), *traceback.format_exception(error)]
    for secret in (*SECRETS, "s3cr3t-path-token"):
        assert all(secret not in text for text in told), (secret, told)


# --- PagerDuty ---------------------------------------------------------------------------------------


def test_pagerduty_trigger_sends_an_events_v2_alert(receiver: FakeReceiver) -> None:
    receipt = pagerduty(receiver.url).send(event())

    (sent,) = receiver.requests
    assert (sent.method, sent.path) == ("POST", "/v2/enqueue")
    assert sent.headers["content-type"] == "application/json"
    assert "incident-bot" in sent.headers["user-agent"]
    assert sent.json == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": DEDUP_KEY,
        "payload": {
            "summary": f"SEV-1 #12: {TITLE}",
            "source": "incident-bot",
            "severity": "critical",
            "custom_details": {
                "incident_id": "12",
                "severity": "SEV-1",
                "private": "false",
                "declared_by": "U0DECLARER",
                "slack_channel": "https://acme.slack.com/archives/C0INCIDENT",
            },
        },
        "links": [{"href": "https://acme.slack.com/archives/C0INCIDENT", "text": "Incident channel in Slack"}],
    }
    assert receipt == f"PagerDuty 202 dedup_key={DEDUP_KEY}"


def test_pagerduty_resolve_sends_only_the_key(receiver: FakeReceiver) -> None:
    pagerduty(receiver.url).send(event(action=PageAction.RESOLVE))

    (sent,) = receiver.requests
    assert sent.json == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": DEDUP_KEY}


@pytest.mark.parametrize(
    ("severity", "expected"), [("SEV-1", "critical"), ("SEV-2", "error"), ("SEV-3", "warning"), ("SEV-4", "info")]
)
def test_pagerduty_severity_follows_the_sev_level(receiver: FakeReceiver, severity: str, expected: str) -> None:
    pagerduty(receiver.url).send(event(severity=severity))

    (sent,) = receiver.requests
    assert isinstance(sent.json, dict)
    assert sent.json["payload"]["severity"] == expected


def test_pagerduty_refusal_carries_its_own_message_and_is_final(receiver: FakeReceiver) -> None:
    receiver.answer_next(
        status=400,
        body={
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": [f"'routing_key' {ROUTING_KEY} is not a known integration key"],
        },
    )

    error = failure(pagerduty(receiver.url), event())

    assert (error.service, error.retryable, error.retry_after) == ("PagerDuty", False, None)
    assert "400" in str(error) and "Event object is invalid" in str(error)
    assert "is not a known integration key" in str(error)
    assert_no_secret(error)


# --- Opsgenie ----------------------------------------------------------------------------------------


def test_opsgenie_trigger_creates_an_alert_aliased_by_the_dedup_key(receiver: FakeReceiver) -> None:
    receipt = opsgenie(receiver.url).send(event(severity="SEV-2"))

    (sent,) = receiver.requests
    assert (sent.method, sent.path) == ("POST", "/v2/alerts")
    assert sent.headers["authorization"] == f"GenieKey {GENIE_KEY}"
    assert "incident-bot" in sent.headers["user-agent"]
    assert sent.json == {
        "message": f"SEV-2 #12: {TITLE}",
        "alias": DEDUP_KEY,
        "description": (
            f"SEV-2 #12: {TITLE}\nDeclared by Slack user U0DECLARER.\n"
            "Incident channel: https://acme.slack.com/archives/C0INCIDENT"
        ),
        "priority": "P2",
        "source": "incident-bot",
        "tags": ["incident-bot", "SEV-2"],
        "details": {
            "incident_id": "12",
            "severity": "SEV-2",
            "private": "false",
            "declared_by": "U0DECLARER",
            "slack_channel": "https://acme.slack.com/archives/C0INCIDENT",
        },
    }
    assert receipt == "Opsgenie 202 request request-1"


def test_opsgenie_resolve_closes_the_alert_by_alias(receiver: FakeReceiver) -> None:
    opsgenie(receiver.url).send(event(action=PageAction.RESOLVE))

    (sent,) = receiver.requests
    alias = urllib.parse.quote(DEDUP_KEY, safe="")
    assert "%2F" in alias  # the alias's slashes must not split the path
    assert (sent.method, sent.path) == ("POST", f"/v2/alerts/{alias}/close")
    assert sent.query == {"identifierType": ["alias"]}
    assert sent.headers["authorization"] == f"GenieKey {GENIE_KEY}"
    assert sent.json == {"source": "incident-bot", "note": "SEV-1 #12 was resolved in Slack."}


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("SEV-1", "P1"), ("SEV-2", "P2"), ("SEV-3", "P3"), ("SEV-4", "P4"), ("SEV-5", "P5"), ("SEV-7", "P5")],
)
def test_opsgenie_priority_follows_the_sev_level(receiver: FakeReceiver, severity: str, expected: str) -> None:
    opsgenie(receiver.url).send(event(severity=severity))

    (sent,) = receiver.requests
    assert isinstance(sent.json, dict)
    assert sent.json["priority"] == expected


def test_opsgenie_message_fits_its_130_characters(receiver: FakeReceiver) -> None:
    opsgenie(receiver.url).send(event(title="database " * 40))

    (sent,) = receiver.requests
    assert isinstance(sent.json, dict)
    assert len(sent.json["message"]) == 130 and sent.json["message"].startswith("SEV-1 #12: database")


def test_opsgenie_refusal_carries_its_own_message(receiver: FakeReceiver) -> None:
    receiver.answer_next(status=422, body={"message": "Request body is not processable", "took": 0.0})

    error = failure(opsgenie(receiver.url), event())

    assert (error.service, error.retryable) == ("Opsgenie", False)
    assert "422" in str(error) and "Request body is not processable" in str(error)
    assert_no_secret(error)


# --- webhook -----------------------------------------------------------------------------------------


def test_webhook_sends_the_event_signed(receiver: FakeReceiver) -> None:
    receipt = webhook(receiver.url).send(event())

    (sent,) = receiver.requests
    assert (sent.method, sent.path) == ("POST", "/hooks/T0ACME/s3cr3t-path-token")
    assert sent.json == {
        "action": "trigger",
        "dedup_key": DEDUP_KEY,
        "incident_id": 12,
        "severity": "SEV-1",
        "title": TITLE,
        "private": False,
        "summary": f"SEV-1 #12: {TITLE}",
        "link": "https://acme.slack.com/archives/C0INCIDENT",
        "source": "incident-bot",
        "sent_at": "2024-05-01T10:00:00Z",
    }
    assert sent.headers["content-type"] == "application/json"
    assert "incident-bot" in sent.headers["user-agent"]
    timestamp, signature = sent.headers["x-incident-bot-timestamp"], sent.headers["x-incident-bot-signature"]
    assert timestamp == "1714557600" and signature.startswith("v1=")
    assert verify_webhook_signature(
        secret=WEBHOOK_SECRET, timestamp=timestamp, body=sent.body, signature=signature, now=NOW + 30
    )
    assert receipt == "webhook 202"


def test_a_webhook_signature_fails_for_anything_changed(receiver: FakeReceiver) -> None:
    webhook(receiver.url).send(event())
    (sent,) = receiver.requests
    timestamp, signature = sent.headers["x-incident-bot-timestamp"], sent.headers["x-incident-bot-signature"]

    def verify(
        *, secret: str = WEBHOOK_SECRET, body: bytes = sent.body, stamp: str = timestamp, now: float = NOW
    ) -> bool:
        return verify_webhook_signature(secret=secret, timestamp=stamp, body=body, signature=signature, now=now)

    assert verify()
    assert not verify(body=sent.body.replace(b"SEV-1", b"SEV-3"))
    assert not verify(secret="another-secret")
    assert not verify(now=NOW + 301)  # a replay of an old request
    assert not verify(stamp=str(int(NOW) + 1))  # a timestamp that was not the one signed
    assert not verify(stamp="soon")
    assert not verify_webhook_signature(
        secret=WEBHOOK_SECRET, timestamp=timestamp, body=sent.body, signature="v1=é", now=NOW
    )


def test_an_unsigned_webhook_still_says_when_it_was_sent(receiver: FakeReceiver) -> None:
    WebhookPager(f"{receiver.url}/hook", None, clock=lambda: NOW).send(event(action=PageAction.RESOLVE))

    (sent,) = receiver.requests
    assert sent.headers["x-incident-bot-timestamp"] == "1714557600"
    assert "x-incident-bot-signature" not in sent.headers
    assert isinstance(sent.json, dict) and sent.json["action"] == "resolve"


# --- every pager -------------------------------------------------------------------------------------


@EVERY_PAGER
def test_a_private_incident_never_sends_its_title(receiver: FakeReceiver, make: PagerFactory) -> None:
    pager = make(receiver.url, 5)
    pager.send(event(private=True))
    pager.send(event(private=True, action=PageAction.RESOLVE))

    assert len(receiver.requests) == 2
    for sent in receiver.requests:
        assert TITLE.encode() not in sent.body
        assert all(TITLE not in value for value in sent.headers.values())
    first = receiver.requests[0].body.decode()
    assert "SEV-1 #12: private incident (details in Slack)" in first


@EVERY_PAGER
def test_too_many_requests_is_retried_after_the_time_asked(receiver: FakeReceiver, make: PagerFactory) -> None:
    receiver.answer_next(status=429, body={"message": "Too many requests"}, headers={"Retry-After": "7"})

    error = failure(make(receiver.url, 5), event())

    assert (error.retryable, error.retry_after) == (True, 7.0)
    assert "429" in str(error)
    assert_no_secret(error)


@EVERY_PAGER
@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retryable(receiver: FakeReceiver, make: PagerFactory, status: int) -> None:
    receiver.answer_next(status=status, body=b"<html>upstream trouble</html>")

    error = failure(make(receiver.url, 5), event())

    assert error.retryable and error.retry_after is None
    assert str(status) in str(error)
    assert_no_secret(error)


@EVERY_PAGER
@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_client_error_is_final(receiver: FakeReceiver, make: PagerFactory, status: int) -> None:
    receiver.answer_next(status=status, body={"message": "No"}, headers={"Retry-After": "5"})

    error = failure(make(receiver.url, 5), event())

    assert not error.retryable and error.retry_after is None
    assert f"HTTP {status}: No" in str(error)
    assert_no_secret(error)


@EVERY_PAGER
def test_a_pager_that_hangs_is_retryable(receiver: FakeReceiver, make: PagerFactory) -> None:
    receiver.hang_next()
    # The receiver never answers: a short timeout keeps the test quick, and nothing depends on its length.
    error = failure(make(receiver.url, 0.5), event())

    assert error.retryable
    assert len(receiver.requests) == 1  # it was delivered, and not answered
    assert_no_secret(error)


@EVERY_PAGER
def test_a_refused_connection_is_retryable(make: PagerFactory) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    # The port was free a moment ago and nothing listens on it now.

    error = failure(make(f"http://127.0.0.1:{port}", 5), event())

    assert error.retryable
    assert "could not be reached" in str(error)
    assert_no_secret(error)


@EVERY_PAGER
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_with_the_key(receiver: FakeReceiver, make: PagerFactory, status: int) -> None:
    with receiving() as elsewhere:
        receiver.answer_next(status=status, headers={"Location": f"{elsewhere.url}/collect"})

        error = failure(make(receiver.url, 5), event())

        assert elsewhere.requests == []
    assert not error.retryable
    assert f"HTTP {status}: redirects are not followed" in str(error)
    assert_no_secret(error)


def test_no_pager_shows_its_key_in_its_repr() -> None:
    pagers = [pagerduty("http://127.0.0.1:9"), opsgenie("http://127.0.0.1:9"), webhook("http://127.0.0.1:9")]
    for pager in pagers:
        for secret in (*SECRETS, "s3cr3t-path-token"):
            assert secret not in repr(pager)


# --- build_pagers ------------------------------------------------------------------------------------


def test_build_pagers_makes_none_when_nothing_is_configured() -> None:
    assert (
        build_pagers(
            pagerduty_routing_key=None,
            pagerduty_events_url="https://events.pagerduty.com/v2/enqueue",
            opsgenie_api_key=SecretStr(""),
            opsgenie_api_url="https://api.opsgenie.com",
            webhook_url="",
            webhook_secret=None,
        )
        == []
    )


def test_build_pagers_makes_one_per_configured_service_and_each_pages_its_own(receiver: FakeReceiver) -> None:
    pagers = build_pagers(
        pagerduty_routing_key=SecretStr(ROUTING_KEY),
        pagerduty_events_url=f"{receiver.url}/v2/enqueue",
        opsgenie_api_key=SecretStr(GENIE_KEY),
        opsgenie_api_url=receiver.url,
        webhook_url=f"{receiver.url}/hook",
        webhook_secret=SecretStr(WEBHOOK_SECRET),
        timeout=5,
    )
    assert [pager.name for pager in pagers] == ["PagerDuty", "Opsgenie", "webhook"]

    for pager in pagers:
        pager.send(event())

    sent = receiver.requests
    assert [request.path for request in sent] == ["/v2/enqueue", "/v2/alerts", "/hook"]
    assert sent[1].headers["authorization"] == f"GenieKey {GENIE_KEY}"
    assert "x-incident-bot-signature" in sent[2].headers


def test_build_pagers_with_only_a_webhook() -> None:
    pagers = build_pagers(
        pagerduty_routing_key=None,
        pagerduty_events_url="https://events.pagerduty.com/v2/enqueue",
        opsgenie_api_key=None,
        opsgenie_api_url="https://api.opsgenie.com",
        webhook_url="https://hooks.example.com/incident",
        webhook_secret=None,
    )
    assert [pager.name for pager in pagers] == ["webhook"]
