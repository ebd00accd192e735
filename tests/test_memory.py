"""`serve` hands back what its start-up freed: on glibc (this machine, the Docker image) it can."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from bot.ops.memory import release_free_memory


def resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_the_heap_freed_below_a_live_block_goes_back_to_the_system() -> None:
    # 40 MB of 4 kB blocks (the C heap, under malloc's mmap threshold), then one block that stays: what is
    # freed below it stays resident, since free() only gives back the heap's top.
    blocks = [bytearray(4096) for _ in range(10_000)]
    kept = bytearray(4096)
    del blocks
    before = resident_mb()
    assert release_free_memory() is True
    assert resident_mb() < before - 20
    assert len(kept) == 4096
