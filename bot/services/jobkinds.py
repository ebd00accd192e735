"""Names of the durable jobs that run after Slack has been answered."""

OPEN_ROOM = "open_room"
ANNOUNCE_DECLARED = "announce_declared"
ESCALATE_DM = "escalate_dm"
ANNOUNCE_SEVERITY = "announce_severity"
CAPTURE_MESSAGE = "capture_message"
UNCONFIRM_MESSAGE = "unconfirm_message"
TELL = "tell"
