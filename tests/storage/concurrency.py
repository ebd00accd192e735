"""Run test code in several threads that start at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_together(count: int, target: Callable[[int], T], *, timeout: float = 60) -> list[T]:
    """Call target(0) … target(count - 1) in parallel threads; re-raise the first failure."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T:
        # Nobody starts until every thread is ready, so the calls really overlap.
        barrier.wait(timeout=10)
        return target(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, index) for index in range(count)]
        return [future.result(timeout=timeout) for future in futures]
