"""Publishing RCAs and doc updates to the team's docs repository (git)."""

from bot.core.ports import Edit, PublishError, PublishResult
from bot.publish.git_publisher import GitPublisher

__all__ = ["Edit", "GitPublisher", "PublishError", "PublishResult"]
