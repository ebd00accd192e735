"""`incident-bot demo`: a whole incident played offline against the Slack simulator."""

from bot.demo.walkthrough import run_demo

__all__ = ["run_demo"]
