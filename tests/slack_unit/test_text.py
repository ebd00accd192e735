"""People's text in Slack: what Slack sent escaped stays as it is, raw modal input is escaped once."""

from hypothesis import given
from hypothesis import strategies as st

from bot.slack.text import as_mrkdwn, as_plain


def test_slack_escaped_text_is_not_escaped_twice() -> None:
    assert as_mrkdwn("a &lt; b &amp;&amp; c") == "a &lt; b &amp;&amp; c"


def test_raw_modal_text_is_escaped() -> None:
    assert as_mrkdwn("a < b & <script>") == "a &lt; b &amp; &lt;script&gt;"


def test_mentions_channels_and_links_stay_live_but_broadcasts_do_not() -> None:
    text = "<@U1|bob> in <#C12|general>: <!here> see <https://x.example|the graph>"
    assert as_mrkdwn(text) == "<@U1|bob> in <#C12|general>: @here see <https://x.example|the graph>"
    assert as_plain(text) == "@bob in #general: @here see the graph"


@given(st.text())
def test_output_never_has_a_bare_angle_bracket_outside_slack_markup(text: str) -> None:
    out = as_mrkdwn(text)
    assert as_mrkdwn(out) == out  # idempotent: showing it twice never double-escapes
