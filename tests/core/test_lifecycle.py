from datetime import UTC, datetime, timedelta

import pytest

from bot.core import lifecycle
from bot.core.errors import InvalidInput, InvalidTransition
from bot.core.models import Incident, IncidentStatus, Severity, TimelineKind

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def make(severity: Severity = Severity.SEV3) -> Incident:
    incident = lifecycle.declare(title="  Gateway   auth outage ", severity=severity, declared_by="U1", now=NOW)
    return incident.model_copy(update={"id": 7})


def test_declare_makes_the_declarer_commander_and_tidies_the_title() -> None:
    incident = make()
    assert incident.title == "Gateway auth outage"
    assert incident.commander_id == "U1"
    assert incident.status is IncidentStatus.ACTIVE


def test_blank_title_is_refused_on_the_title_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        lifecycle.declare(title=" \n ", severity=Severity.SEV1, declared_by="U1", now=NOW)
    assert caught.value.field == "title"


def test_change_is_recorded_in_words() -> None:
    incident = make(Severity.SEV3)
    entry = lifecycle.change_severity(incident, Severity.SEV1, by="U2", now=NOW + timedelta(minutes=5))
    assert incident.severity is Severity.SEV1
    assert entry.text == "Severity changed from SEV-3 to SEV-1"
    assert entry.kind is TimelineKind.SEVERITY_CHANGED
    assert entry.author_id == "U2"


def test_same_severity_is_refused() -> None:
    with pytest.raises(InvalidTransition):
        lifecycle.change_severity(make(Severity.SEV2), Severity.SEV2, by="U2", now=NOW)


def test_topic_fits_slack() -> None:
    incident = make().model_copy(update={"title": "x" * 5000})
    assert len(lifecycle.topic_for(incident)) == 250
    assert lifecycle.topic_for(make()) == "SEV-3 · Gateway auth outage"


def test_runbook_facts_per_severity() -> None:
    assert Severity.SEV1.info.response_time == "Immediate"
    assert Severity.SEV2.info.rca_required and not Severity.SEV3.info.rca_required
    assert Severity.SEV1.is_escalation and not Severity.SEV2.is_escalation
