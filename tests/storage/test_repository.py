"""SqlUnitOfWork and its repositories, against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from bot.core.jobs import EscalateDm, PostSummary
from bot.core.models import ActionStatus, Incident, IncidentStatus, Severity, TimelineKind, TimelineLine
from bot.core.ports import UnitOfWork
from bot.storage import SqlJobStore, SqlUnitOfWork
from tests.storage import factories as f
from tests.storage.concurrency import run_together
from tests.support.clock import RunningClock

CLOCK = RunningClock()

UowFactory = Callable[[], UnitOfWork]


def _add_incident(uow_factory: UowFactory, **overrides: object) -> Incident:
    with uow_factory() as uow:
        added = uow.incidents.add(f.incident(**overrides))
        uow.commit()
    return added


# ----------------------------------------------------------------------------------------- incidents


def test_incident_round_trip_keeps_every_field_and_returns_aware_utc(uow_factory: UowFactory) -> None:
    prefix = "Ünïcödé 🔥 支付失败 "
    title = prefix + "x" * (5000 - len(prefix))
    original = f.incident(
        title=title,
        severity=Severity.SEV1,
        status=IncidentStatus.RESOLVED,
        resolved_at=f.T0 + timedelta(hours=2, microseconds=1),
        private=True,
        room_id="C_ROOM",
        room_name="inc-2024-03-09-checkout",
        summary_message_id="1710000000.000100",
        summary="Línea 1\nLine 2 — “quoted”",
    )
    added = _add_incident(uow_factory, **original.model_dump(exclude={"id"}))
    assert added.id is not None

    with uow_factory() as uow:
        loaded = uow.incidents.get(added.id)
    assert loaded == added
    assert loaded is not None
    assert len(loaded.title) == 5000 and loaded.title == title
    assert loaded.declared_at.utcoffset() == timedelta(0)
    assert loaded.declared_at == f.T0 and loaded.declared_at.microsecond == 123456
    assert loaded.resolved_at is not None and loaded.resolved_at.utcoffset() == timedelta(0)
    assert loaded.severity is Severity.SEV1 and loaded.status is IncidentStatus.RESOLVED
    assert loaded.private is True


def test_incident_lookups_save_and_active_list(uow_factory: UowFactory) -> None:
    later = _add_incident(uow_factory, title="later", declared_at=f.T0 + timedelta(minutes=5))
    first = _add_incident(uow_factory, title="first", room_id="C_FIRST")
    resolved = _add_incident(uow_factory, title="resolved", status=IncidentStatus.RESOLVED)

    with uow_factory() as uow:
        assert [i.title for i in uow.incidents.list_active()] == ["first", "later"]
        assert uow.incidents.by_room("C_FIRST") == first
        assert uow.incidents.by_room("C_NOPE") is None
        assert uow.incidents.get(999_999) is None

        later.room_id = "C_LATER"
        later.severity = Severity.SEV1
        later.resolved_at = None
        uow.incidents.save(later)
        uow.commit()

    with uow_factory() as uow:
        assert uow.incidents.by_room("C_LATER") == later
        assert uow.incidents.get(resolved.id or 0) == resolved
        with pytest.raises(LookupError):
            uow.incidents.save(later.model_copy(update={"id": 999_999}))
        with pytest.raises(ValueError):
            uow.incidents.save(f.incident())


def test_a_room_belongs_to_one_incident(uow_factory: UowFactory) -> None:
    _add_incident(uow_factory, room_id="C_SAME")
    with pytest.raises(IntegrityError), uow_factory() as uow:
        uow.incidents.add(f.incident(room_id="C_SAME"))


# ------------------------------------------------------------------------------------------ timeline


def test_timeline_round_trip_and_order(uow_factory: UowFactory) -> None:
    incident_id = _add_incident(uow_factory).id
    assert incident_id is not None
    with uow_factory() as uow:
        late = uow.timeline.add(f.entry(incident_id, text="late", occurred_at=f.T0 + timedelta(minutes=1)))
        tie_a = uow.timeline.add(f.entry(incident_id, text="tie a", kind=TimelineKind.DECLARED, author_id=None))
        tie_b = uow.timeline.add(
            f.entry(
                incident_id,
                text="tie b ✅",
                kind=TimelineKind.MESSAGE,
                source_room_id="C1",
                source_message_id="111.222",
                permalink="https://example.slack.com/archives/C1/p111222",
            )
        )
        uow.commit()

    with uow_factory() as uow:
        entries = uow.timeline.for_incident(incident_id)
        assert entries == [tie_a, tie_b, late]
        assert all(e.occurred_at.utcoffset() == timedelta(0) for e in entries)
        assert uow.timeline.count(incident_id) == 3
        assert uow.timeline.for_incident(999_999) == []
        # A render's read: the same entries, in the same order, as plain lines (UTC moments, kinds, links).
        assert uow.timeline.lines(incident_id) == [
            TimelineLine(
                id=e.id or 0,
                kind=e.kind,
                occurred_at=e.occurred_at,
                author_id=e.author_id,
                text=e.text,
                permalink=e.permalink,
            )
            for e in entries
        ]
        assert all(line.occurred_at.utcoffset() == timedelta(0) for line in uow.timeline.lines(incident_id))
        assert uow.timeline.lines(999_999) == []


def test_the_timeline_counts_its_edits_and_reads_the_entries_added_after_one(uow_factory: UowFactory) -> None:
    incident = _add_incident(uow_factory)
    other = _add_incident(uow_factory, room_id="C_OTHER")
    assert incident.id is not None and other.id is not None
    with uow_factory() as uow:
        first = uow.timeline.add(f.entry(incident.id, text="first"))
        second = uow.timeline.add(f.entry(incident.id, text="second", occurred_at=f.T0 - timedelta(minutes=5)))
        uow.timeline.add(f.entry(other.id, text="elsewhere"))
        uow.commit()
    assert first.id is not None and second.id is not None
    with uow_factory() as uow:
        # Entries added are not edits; the entries after one are only the incident's, whatever their time.
        assert uow.timeline.edits(incident.id) == uow.timeline.edits(other.id) == 0
        assert uow.timeline.edits(999_999) == 0
        assert [line.text for line in uow.timeline.lines(incident.id, after=first.id)] == ["second"]
        assert uow.timeline.lines(incident.id, after=second.id) == []
        assert sorted(line.text for line in uow.timeline.lines(incident.id, after=0)) == ["first", "second"]
    with uow_factory() as uow:
        uow.timeline.update(first.model_copy(update={"text": "first, edited"}))
        uow.commit()
    with uow_factory() as uow:
        assert uow.timeline.edits(incident.id) == 1
        # A save of the incident as it was read before the edit does not set the count back.
        uow.incidents.save(incident.model_copy(update={"summary": "saved after the edit"}))
        uow.timeline.delete(second.id)
        uow.timeline.delete(second.id)  # already gone: nothing to count
        uow.commit()
    with uow_factory() as uow:
        assert uow.timeline.edits(incident.id) == 2
        assert uow.timeline.edits(other.id) == 0
        assert [line.text for line in uow.timeline.lines(incident.id)] == ["first, edited"]


def test_timeline_entries_of_some_kinds_and_one_entry_by_id(uow_factory: UowFactory) -> None:
    one = _add_incident(uow_factory).id
    two = _add_incident(uow_factory).id
    assert one is not None and two is not None
    with uow_factory() as uow:
        reopened = uow.timeline.add(
            f.entry(one, kind=TimelineKind.REOPENED, text="reopened", occurred_at=f.T0 + timedelta(minutes=5))
        )
        uow.timeline.add(f.entry(one, kind=TimelineKind.NOTE, text="a note"))
        update = uow.timeline.add(f.entry(one, kind=TimelineKind.STATUS_UPDATE, text="update"))
        uow.timeline.add(f.entry(two, kind=TimelineKind.STATUS_UPDATE, text="another incident's update"))
        uow.commit()

    with uow_factory() as uow:
        cadence_kinds = {TimelineKind.STATUS_UPDATE, TimelineKind.REOPENED}
        assert uow.timeline.of_kinds(one, cadence_kinds) == [update, reopened]  # in the order things happened
        assert uow.timeline.of_kinds(one, {TimelineKind.DECLARED}) == []
        assert uow.timeline.of_kinds(one, set()) == []
        assert update.id is not None
        assert uow.timeline.get(update.id) == update
        assert uow.timeline.get(999_999) is None


def test_timeline_records_a_message_once_per_incident(uow_factory: UowFactory) -> None:
    one = _add_incident(uow_factory).id
    two = _add_incident(uow_factory).id
    assert one is not None and two is not None
    with uow_factory() as uow:
        first = uow.timeline.add(f.entry(one, source_room_id="C1", source_message_id="1.1", text="first"))
        again = uow.timeline.add(f.entry(one, source_room_id="C1", source_message_id="1.1", text="again"))
        other = uow.timeline.add(f.entry(two, source_room_id="C1", source_message_id="1.1"))
        # Entries without a source never collide with each other.
        uow.timeline.add(f.entry(one))
        uow.timeline.add(f.entry(one))
        uow.commit()

    assert again == first and again.text == "first"
    with uow_factory() as uow:
        assert uow.timeline.count(one) == 3
        assert uow.timeline.by_source(one, "C1", "1.1") == first
        assert uow.timeline.by_source(one, "C1", "9.9") is None
        assert uow.timeline.by_message("C1", "1.1") == [first, other]
        assert uow.timeline.by_message("C2", "1.1") == []


def test_timeline_update_and_delete(uow_factory: UowFactory) -> None:
    incident_id = _add_incident(uow_factory).id
    assert incident_id is not None
    with uow_factory() as uow:
        added = uow.timeline.add(f.entry(incident_id))
        added.text = "edited ✏️"
        added.occurred_at = f.T0 - timedelta(days=1)
        uow.timeline.update(added)
        uow.commit()
    with uow_factory() as uow:
        assert uow.timeline.for_incident(incident_id) == [added]
        assert added.id is not None
        uow.timeline.delete(added.id)
        uow.timeline.delete(added.id)  # already gone: not an error
        uow.commit()
    with uow_factory() as uow:
        assert uow.timeline.count(incident_id) == 0
        with pytest.raises(LookupError):
            uow.timeline.update(added)


def test_timeline_entry_needs_an_existing_incident(uow_factory: UowFactory) -> None:
    with pytest.raises(IntegrityError), uow_factory() as uow:
        uow.timeline.add(f.entry(999_999))


# ---------------------------------------------------------------------------------------------- pins


def test_pins_count_people_once(uow_factory: UowFactory) -> None:
    incident_id = _add_incident(uow_factory).id
    assert incident_id is not None
    with uow_factory() as uow:
        assert uow.pins.add(incident_id, "C1", "1.1", "U1") is True
        assert uow.pins.add(incident_id, "C1", "1.1", "U1") is False
        assert uow.pins.add(incident_id, "C1", "1.1", "U2") is True
        assert uow.pins.add(incident_id, "C1", "2.2", "U1") is True
        uow.commit()
    with uow_factory() as uow:
        assert uow.pins.count(incident_id, "C1", "1.1") == 2
        assert uow.pins.remove(incident_id, "C1", "1.1", "U1") is True
        assert uow.pins.remove(incident_id, "C1", "1.1", "U1") is False
        assert uow.pins.count(incident_id, "C1", "1.1") == 1
        assert uow.pins.count(incident_id, "C1", "2.2") == 1
        assert uow.pins.count(incident_id, "C9", "1.1") == 0


# -------------------------------------------------------------------------------------- action items


def test_action_items_are_numbered_per_incident_and_round_trip(uow_factory: UowFactory) -> None:
    one = _add_incident(uow_factory).id
    two = _add_incident(uow_factory).id
    assert one is not None and two is not None
    with uow_factory() as uow:
        a1 = uow.actions.add(f.action(one, number=42, action="Écrire le post-mortem 📝"))
        a2 = uow.actions.add(f.action(one, owner_id=None, owner_label=""))
        b1 = uow.actions.add(f.action(two))
        uow.commit()
    assert (a1.number, a2.number, b1.number) == (1, 2, 1)

    with uow_factory() as uow:
        assert uow.actions.for_incident(one) == [a1, a2]
        loaded = uow.actions.get(one, 1)
        assert loaded == a1 and loaded is not None
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert uow.actions.get(one, 3) is None

        a2.status = ActionStatus.DONE
        a2.updated_at = f.T0 + timedelta(days=1)
        uow.actions.save(a2)
        b1.status = ActionStatus.IN_PROGRESS
        uow.actions.save(b1.model_copy(update={"id": None}))  # found by incident and number
        uow.commit()

    with uow_factory() as uow:
        assert uow.actions.get(one, 2) == a2
        assert uow.actions.get(one, 2).status is ActionStatus.DONE  # type: ignore[union-attr]
        assert uow.actions.open_items() == [a1, b1]
        with pytest.raises(LookupError):
            uow.actions.save(f.action(one, number=99))


def test_concurrent_action_items_get_distinct_numbers(engine: Engine) -> None:
    incident_id = _add_incident(lambda: SqlUnitOfWork(engine, clock=CLOCK)).id
    assert incident_id is not None
    threads, per_thread = 6, 5

    def add_items(index: int) -> None:
        for n in range(per_thread):
            with SqlUnitOfWork(engine, clock=CLOCK) as uow:
                uow.actions.add(f.action(incident_id, action=f"thread {index} item {n}"))
                uow.commit()

    run_together(threads, add_items)
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        numbers = [item.number for item in uow.actions.for_incident(incident_id)]
    assert numbers == list(range(1, threads * per_thread + 1))


# -------------------------------------------------------------------------------------------- events


def test_first_delivery_is_true_once(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        assert uow.events.first_delivery("Ev1") is True
        assert uow.events.first_delivery("Ev1") is False
        uow.commit()
    with uow_factory() as uow:
        assert uow.events.first_delivery("Ev1") is False
        assert uow.events.first_delivery("Ev2") is True
    # Not committed, so a redelivery is handled again.
    with uow_factory() as uow:
        assert uow.events.first_delivery("Ev2") is True


def test_first_delivery_racing_threads_agree(engine: Engine) -> None:
    event_ids = [f"Ev{i}" for i in range(10)]

    def deliver(_: int) -> list[bool]:
        outcomes = []
        for event_id in event_ids:
            with SqlUnitOfWork(engine, clock=CLOCK) as uow:
                outcomes.append(uow.events.first_delivery(event_id))
                uow.commit()
        return outcomes

    per_thread = run_together(4, deliver)
    for outcomes in zip(*per_thread, strict=True):
        assert sorted(outcomes) == [False, False, False, True]


# ------------------------------------------------------------------------------------ unit of work


def test_nothing_is_kept_when_the_block_raises(uow_factory: UowFactory) -> None:
    with pytest.raises(RuntimeError, match="boom"), uow_factory() as uow:
        added = uow.incidents.add(f.incident())
        uow.events.first_delivery("Ev-rolled-back")
        raise RuntimeError("boom")
    with uow_factory() as uow:
        assert added.id is not None
        assert uow.incidents.get(added.id) is None
        assert uow.events.first_delivery("Ev-rolled-back") is True


def test_only_committed_work_survives(uow_factory: UowFactory) -> None:
    with uow_factory() as uow:
        kept = uow.incidents.add(f.incident(title="kept"))
        uow.commit()
        # The unit of work stays usable: this is a second transaction, never committed.
        dropped = uow.incidents.add(f.incident(title="dropped"))
    with uow_factory() as uow:
        assert uow.incidents.get(kept.id or 0) == kept
        assert uow.incidents.get(dropped.id or 0) is None


def test_repositories_need_the_with_block(engine: Engine) -> None:
    uow = SqlUnitOfWork(engine, clock=CLOCK)
    with pytest.raises(RuntimeError):
        uow.incidents.list_active()
    with uow, pytest.raises(RuntimeError):
        uow.__enter__()


def test_worker_is_woken_after_commits_that_enqueued_jobs(engine: Engine) -> None:
    wakeups: list[str] = []
    store = SqlJobStore(engine)

    with SqlUnitOfWork(engine, clock=CLOCK, on_jobs_enqueued=lambda: wakeups.append("wake")) as uow:
        uow.jobs.enqueue(PostSummary(incident_id=1))
        assert wakeups == []  # not before the job is visible to the worker
        uow.commit()
        assert wakeups == ["wake"]
        uow.events.first_delivery("Ev-no-jobs")
        uow.commit()
        assert wakeups == ["wake"]
        uow.jobs.enqueue(PostSummary(incident_id=2))
    assert wakeups == ["wake"]  # rolled back: nothing to wake up for
    assert store.pending() == 1

    def broken() -> None:
        raise OSError("wake-up pipe closed")

    with SqlUnitOfWork(engine, clock=CLOCK, on_jobs_enqueued=broken) as uow:
        uow.jobs.enqueue(PostSummary(incident_id=3))
        uow.commit()  # a failed wake-up must not undo or fail the commit
    assert store.pending() == 2


def test_a_job_with_a_key_is_stored_once(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        uow.jobs.enqueue(EscalateDm(incident_id=1, user_id="U1"), key="escalate:1:U1")
        uow.jobs.enqueue(EscalateDm(incident_id=1, user_id="U1"), key="escalate:1:U1")
        uow.jobs.enqueue(EscalateDm(incident_id=1, user_id="U2"), key="escalate:1:U2")
        uow.commit()
    assert SqlJobStore(engine).pending() == 2


def test_enqueue_defaults_run_at_to_now(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        uow.jobs.enqueue(PostSummary(incident_id=1))
        uow.jobs.enqueue(PostSummary(incident_id=2), run_at=f.T0 + timedelta(days=365 * 100))
        uow.commit()

    job = SqlJobStore(engine).claim("w", CLOCK.now() + timedelta(seconds=5), 30)
    assert job is not None and job.job == PostSummary(incident_id=1)
    assert SqlJobStore(engine).claim("w", CLOCK.now() + timedelta(seconds=5), 30) is None
