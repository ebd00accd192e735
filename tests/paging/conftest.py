"""The paging tests' fixture: a fake pager endpoint on loopback (see receiver.py)."""

from tests.paging.receiver import receiver

__all__ = ["receiver"]
