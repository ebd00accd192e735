"""Giving memory the process no longer uses back to the system (glibc's `malloc_trim`)."""

from __future__ import annotations

import ctypes
import gc


def release_free_memory() -> bool:
    """Collect garbage, then hand the C heap's free pages back to the system; False where the C library
    cannot (not glibc). Start-up (imports, migrations, building the app) frees a megabyte or two that
    the allocator would otherwise keep resident for the life of the process."""
    gc.collect()
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library this interpreter is linked with
    except (OSError, AttributeError):
        return False  # musl and others: no malloc_trim
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return bool(trim(0))
