"""An offline Slack: a stateful fake Web API server and a driver that sends
signed Slack requests (commands, events, interactions) to a running app."""

from bot.simulator.driver import Response, SlackDriver
from bot.simulator.fake import FakeSlack

__all__ = ["FakeSlack", "Response", "SlackDriver"]
