"""Requests applied once: a replayed request, or a form submitted twice, changes nothing the second time."""

from __future__ import annotations

from bot.services.context import ServiceContext


def first_time(ctx: ServiceContext, key: str) -> bool:
    """Record `key`; False when it was recorded before (by this or any other replica)."""
    with ctx.uow() as uow:
        fresh = uow.events.first_delivery(key)
        uow.commit()
    return fresh
