"""Incident roles in the database: stored with the incident, read back with it, migrated in by 0004."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from sqlalchemy import Engine, inspect, text

from bot.core.models import Incident, IncidentStatus
from bot.core.ports import UnitOfWork
from bot.storage import SqlUnitOfWork, create_engine_for, migrate
from bot.storage.migrate import HEAD_REVISION, alembic_config, current_revision
from tests.storage import factories as f
from tests.support.clock import RunningClock

UowFactory = Callable[[], UnitOfWork]


def _add(uow_factory: UowFactory, **overrides: object) -> Incident:
    with uow_factory() as uow:
        added = uow.incidents.add(f.incident(**overrides))
        uow.commit()
    assert added.id is not None
    return added


def test_roles_are_stored_and_read_back_every_way_an_incident_is_read(uow_factory: UowFactory) -> None:
    added = _add(uow_factory, room_id="C_ROOM", roles={"comms": "U_BOB", "scribe": "U_CAROL"})
    other = _add(uow_factory, title="Quiet one")
    assert added.id is not None and other.id is not None
    with uow_factory() as uow:
        assert uow.incidents.get(added.id) == added
        assert uow.incidents.get(added.id, for_update=True) == added
        assert uow.incidents.by_room("C_ROOM") == added
        listed = {incident.id: incident for incident in uow.incidents.list_active()}
    assert listed[added.id].roles == {"comms": "U_BOB", "scribe": "U_CAROL"}
    assert listed[other.id].roles == {}
    assert listed[added.id].holder("comms") == "U_BOB"
    assert listed[added.id].holder("commander") == "U_COMMANDER"


def test_saving_replaces_the_roles_and_leaves_other_incidents_alone(uow_factory: UowFactory) -> None:
    first = _add(uow_factory, roles={"comms": "U_BOB"})
    second = _add(uow_factory, roles={"comms": "U_DAN"})
    assert first.id is not None and second.id is not None
    with uow_factory() as uow:
        incident = uow.incidents.get(first.id, for_update=True)
        assert incident is not None
        incident.roles = {"comms": "U_EVE", "scribe": "U_BOB"}
        uow.incidents.save(incident)
        uow.commit()
    with uow_factory() as uow:
        incident = uow.incidents.get(first.id, for_update=True)
        assert incident is not None
        assert incident.roles == {"comms": "U_EVE", "scribe": "U_BOB"}
        incident.status = IncidentStatus.RESOLVED
        incident.roles = {"scribe": "U_BOB"}
        assert uow.incidents.save_if_status(incident, IncidentStatus.ACTIVE)
        uow.commit()
    with uow_factory() as uow:
        resolved = uow.incidents.list_resolved()
        untouched = uow.incidents.get(second.id)
    assert [(incident.id, incident.roles) for incident in resolved] == [(first.id, {"scribe": "U_BOB"})]
    assert untouched is not None and untouched.roles == {"comms": "U_DAN"}


def test_a_save_that_loses_to_another_writer_leaves_the_roles(uow_factory: UowFactory) -> None:
    added = _add(uow_factory, roles={"comms": "U_BOB"})
    assert added.id is not None
    stale = added.model_copy(update={"roles": {"comms": "U_EVE"}})
    with uow_factory() as uow:
        assert not uow.incidents.save_if_status(stale, IncidentStatus.RESOLVED)
        uow.commit()
    with uow_factory() as uow:
        found = uow.incidents.get(added.id)
    assert found is not None and found.roles == {"comms": "U_BOB"}


def test_migration_0004_adds_roles_to_a_database_with_incidents(database_url: str, clock: RunningClock) -> None:
    engine = create_engine_for(database_url)
    try:
        config = alembic_config(engine.url)
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
            conn.execute(
                text(
                    "INSERT INTO incidents (title, severity, status, commander_id, declared_by, declared_at, summary,"
                    " private, root_causes, resolution, lessons, rca_wanted) VALUES ('Old one', 'SEV-2', 'active',"
                    " 'U_A', 'U_A', '2026-01-01 09:00:00+00:00', '', false, '', '', '', false)"
                )
            )
        assert "incident_roles" not in inspect(engine).get_table_names()
        migrate(engine)
        assert current_revision(engine) == HEAD_REVISION
        with SqlUnitOfWork(engine, clock=clock) as uow:
            (old,) = uow.incidents.list_active()
            assert old.title == "Old one" and old.roles == {}
            old.roles = {"comms": "U_B"}
            uow.incidents.save(old)
            uow.commit()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0003")
        assert "incident_roles" not in inspect(engine).get_table_names()
        assert "incidents" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_roles_go_with_their_incident(engine: Engine, uow_factory: UowFactory) -> None:
    added = _add(uow_factory, roles={"comms": "U_BOB"})
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM incidents WHERE id = :id"), {"id": added.id})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incident_roles")).scalar_one() == 0
