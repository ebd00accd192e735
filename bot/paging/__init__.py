"""Paging on-call through PagerDuty, Opsgenie or a signed webhook (the adapters of `bot.core.paging`)."""

from bot.paging.senders import (
    OpsgeniePager,
    PagerDutyPager,
    WebhookPager,
    build_pagers,
    verify_webhook_signature,
    webhook_signature,
)

__all__ = [
    "OpsgeniePager",
    "PagerDutyPager",
    "WebhookPager",
    "build_pagers",
    "verify_webhook_signature",
    "webhook_signature",
]
