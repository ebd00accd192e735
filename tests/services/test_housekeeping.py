from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine

from bot.core.ports import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.housekeeping import tidy
from bot.storage import SqlJobStore
from tests.support.clock import RunningClock


def test_old_event_ids_are_forgotten_so_a_very_late_redelivery_is_new_again(
    engine: Engine, uow_factory: Callable[[], UnitOfWork], clock: RunningClock
) -> None:
    with uow_factory() as uow:
        assert uow.events.first_delivery("Ev1")
        uow.commit()
    jobs = SqlJobStore(engine)
    ctx = ServiceContext(uow=uow_factory, clock=clock)
    assert tidy(ctx, jobs, clock.now() + timedelta(hours=1)) == (0, 0)
    with uow_factory() as uow:
        assert not uow.events.first_delivery("Ev1")  # still remembered within two days
    assert tidy(ctx, jobs, clock.now() + timedelta(days=3))[0] == 1
    with uow_factory() as uow:
        assert uow.events.first_delivery("Ev1")
