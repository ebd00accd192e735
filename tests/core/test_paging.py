"""The page itself: its stable key, the line the on-call reads, and what a malformed page is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.paging import (
    DEDUP_KEY_LIMIT,
    OPSGENIE_MESSAGE_LIMIT,
    PAGERDUTY_SUMMARY_LIMIT,
    PageAction,
    PageEvent,
    PagingError,
    dedup_key_for,
    page_summary,
    severity_level,
)

DECLARED_AT = datetime(2024, 5, 1, 9, 58, 7, tzinfo=UTC)


def event(*, title: str = "Gateway auth outage", private: bool = False, severity: str = "SEV-1") -> PageEvent:
    return PageEvent(
        action=PageAction.TRIGGER,
        dedup_key="incident-bot/T0ACME/12-20240501095807",
        incident_id=12,
        severity=severity,
        title=title,
        private=private,
        declared_by="U0DECLARER",
        link=None,
    )


def test_the_dedup_key_names_the_workspace_the_incident_and_when_it_was_declared() -> None:
    key = dedup_key_for(incident_id=12, declared_at=DECLARED_AT, workspace="T0ACME")
    assert key == "incident-bot/T0ACME/12-20240501095807"


def test_the_dedup_key_is_the_same_from_every_replica() -> None:
    elsewhere = DECLARED_AT.astimezone(timezone(timedelta(hours=-7)))
    keys = {
        dedup_key_for(incident_id=12, declared_at=moment, workspace="T0ACME") for moment in (DECLARED_AT, elsewhere)
    }
    assert len(keys) == 1


def test_different_incidents_get_different_keys() -> None:
    keys = {
        dedup_key_for(incident_id=12, declared_at=DECLARED_AT, workspace="T0ACME"),
        dedup_key_for(incident_id=13, declared_at=DECLARED_AT, workspace="T0ACME"),
        dedup_key_for(incident_id=12, declared_at=DECLARED_AT + timedelta(seconds=1), workspace="T0ACME"),
        dedup_key_for(incident_id=12, declared_at=DECLARED_AT, workspace="T0OTHER"),
    }
    assert len(keys) == 4


def test_the_dedup_key_stays_short_and_plain_whatever_the_workspace() -> None:
    key = dedup_key_for(incident_id=10**12, declared_at=DECLARED_AT, workspace="Acme Corp / ops?" * 100)
    assert len(key) <= DEDUP_KEY_LIMIT
    assert " " not in key and "?" not in key
    assert key.startswith("incident-bot/Acme-Corp-ops-")


def test_the_summary_names_severity_number_and_title() -> None:
    assert page_summary(event()) == "SEV-1 #12: Gateway auth outage"


def test_a_private_incident_keeps_its_title_in_slack() -> None:
    summary = page_summary(event(private=True, title="Customer data in the public bucket"))
    assert summary == "SEV-1 #12: private incident (details in Slack)"


@pytest.mark.parametrize("limit", [PAGERDUTY_SUMMARY_LIMIT, OPSGENIE_MESSAGE_LIMIT])
def test_a_long_title_is_trimmed_to_the_pagers_limit(limit: int) -> None:
    summary = page_summary(event(title="x" * 5000), limit=limit)
    assert len(summary) == limit
    assert summary.startswith("SEV-1 #12: xxx") and summary.endswith("…")


def test_a_team_may_add_lower_severities() -> None:
    assert page_summary(event(severity="SEV-4")).startswith("SEV-4 #12")
    assert severity_level("SEV-4") == 4


@pytest.mark.parametrize("severity", ["sev-1", "SEV1", "SEV-", "critical", "SEV-1 "])
def test_a_page_with_an_unknown_severity_is_refused(severity: str) -> None:
    with pytest.raises(ValueError, match="not a severity"):
        event(severity=severity)


@pytest.mark.parametrize("dedup_key", ["", "k" * (DEDUP_KEY_LIMIT + 1)])
def test_a_page_without_a_usable_key_is_refused(dedup_key: str) -> None:
    with pytest.raises(ValueError, match="dedup_key"):
        PageEvent(
            action=PageAction.RESOLVE,
            dedup_key=dedup_key,
            incident_id=1,
            severity="SEV-2",
            title="t",
            private=False,
            declared_by="U1",
            link=None,
        )


def test_a_paging_error_says_who_failed_and_whether_to_retry() -> None:
    error = PagingError("PagerDuty answered HTTP 429", service="PagerDuty", retryable=True, retry_after=7.0)
    assert (str(error), error.service, error.retryable, error.retry_after) == (
        "PagerDuty answered HTTP 429",
        "PagerDuty",
        True,
        7.0,
    )
    assert "retryable=True" in repr(error)
