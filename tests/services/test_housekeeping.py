from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.core.ports import UnitOfWork
from bot.services.deps import Deps
from bot.services.housekeeping import tidy
from bot.storage import SqlJobStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


def test_old_event_ids_are_forgotten_so_a_very_late_redelivery_is_new_again(
    engine: Engine, uow_factory: Callable[[], UnitOfWork]
) -> None:
    with uow_factory() as uow:
        assert uow.events.first_delivery("Ev1")
        uow.commit()
    jobs = SqlJobStore(engine)
    deps = Deps(uow=uow_factory, clock=FixedClock())
    assert tidy(deps, jobs, datetime.now(UTC) + timedelta(hours=1)) == (0, 0)
    with uow_factory() as uow:
        assert not uow.events.first_delivery("Ev1")  # still remembered within two days
    assert tidy(deps, jobs, datetime.now(UTC) + timedelta(days=3))[0] == 1
    with uow_factory() as uow:
        assert uow.events.first_delivery("Ev1")
