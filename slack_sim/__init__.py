"""An offline Slack: a stateful fake Web API server and a driver that sends
signed Slack requests (commands, events, interactions) to a running app."""

from slack_sim.driver import Response, SlackDriver
from slack_sim.fake import FakeSlack

__all__ = ["FakeSlack", "Response", "SlackDriver"]
