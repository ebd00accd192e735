"""What people wrote stays data: readable in the Markdown file, never structure or HTML."""

import importlib
import re
from importlib.util import find_spec

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.markdown import (
    cell_text,
    link_cell,
    markdown_inline,
    slack_table_cell,
    slack_to_markdown,
    split_table_row,
    table_cell,
)

NAMES = {"U123": "alice", "C9": "ops"}
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# Pieces of Slack text that have broken Markdown documents somewhere: hypothesis strings them together.
# fmt: off
SLACK_PIECES = [
    "<@U123>", "<@U7|bob>", "<#C9|ops>", "<!here>", "<https://x.io/a_(b)|la[b]`el>", "<https://y.io?a=1&amp;b=2>",
    "&lt;script&gt;", "&amp;", "```", "~~~", "    ", "- ", "1. ", "> ", "#", "##", "===", "---", "\n", "\n\n",
    "`", "``", "\\", "|", "[x]: /u", "<!-- ", "-->", "<div>", "*", "_", "a", " ", "{{ 7*7 }}", "www.z.io",
]
# fmt: on
# GitHub's own renderer, when installed, checks the escaping against the real thing.
needs_cmark = pytest.mark.skipif(find_spec("cmarkgfm") is None, reason="cmarkgfm is not installed")
slack_texts = st.lists(st.sampled_from(SLACK_PIECES), max_size=25).map("".join) | st.text(max_size=60)


def test_slack_mentions_channels_and_broadcasts_become_names() -> None:
    text = "ping <@U123> and <@U7|bob> and <@U8> in <#C1|general> / <#C9> <!here> <!channel>"
    assert slack_to_markdown(text, NAMES) == "ping @alice and @bob and @U8 in #general / #ops @here @channel"


def test_slack_links_become_markdown_links() -> None:
    text = "see <https://x.io/a?b=1&amp;c=2|the runbook> or <https://y.io> or <mailto:a@b.io|mail>"
    assert slack_to_markdown(text, {}) == (
        "see [the runbook](https://x.io/a?b=1&c=2) or https://y.io or [mail](mailto:a@b.io)"
    )


def test_slack_entities_are_decoded_then_escaped_again() -> None:
    assert slack_to_markdown("a &lt; b &amp;&amp; c &gt; d", {}) == "a &lt; b && c &gt; d"


def test_script_tags_are_visible_text() -> None:
    assert slack_to_markdown("&lt;script&gt;alert(1)&lt;/script&gt;", {}) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert table_cell("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_only_http_and_mailto_links_are_links() -> None:
    assert slack_to_markdown("<javascript:alert(1)|click>", {}) == "click"
    assert link_cell("javascript:alert(1)", "link") == ""
    assert link_cell("https://x.io/a|b(c)", "link") == "[link](https://x.io/a%7Cb%28c%29)"
    assert link_cell("https://x.io/a b", "link") == ""


def test_lines_starting_with_hash_do_not_become_headings() -> None:
    text = "# not a heading\n  ## nor this\n- # nor in a list"
    assert slack_to_markdown(text, {}) == "\\# not a heading\n  \\## nor this\n- \\# nor in a list"


def test_underline_lines_do_not_make_the_line_above_a_heading() -> None:
    assert slack_to_markdown("Title\n===\nOther\n---", {}) == "Title\n\\===\nOther\n\\---"


def test_an_unclosed_code_fence_is_closed_in_its_own_section() -> None:
    assert slack_to_markdown("before\n```\n# inside <b>", {}) == "before\n```\n# inside <b>\n```"


def test_slack_inline_code_blocks_get_fences_on_their_own_lines() -> None:
    assert slack_to_markdown("log: ```line 1\nline 2```", {}) == "log: \n```\nline 1\nline 2\n```"


def test_indented_tilde_fences_and_link_definitions_are_neutralised() -> None:
    assert slack_to_markdown("  ~~~\n[ref]: https://x.io", {}) == "  \\~~~\n\\[ref]: https://x.io"


def test_code_spans_are_kept_as_written() -> None:
    assert table_cell("run `a | b <c>` now") == "run `a \\| b <c>` now"
    assert table_cell("lonely ` tick") == "lonely \\` tick"


def test_code_right_after_a_bare_url_is_not_trusted() -> None:
    # GFM's autolink would swallow the opening backtick and turn <div> into HTML.
    assert table_cell("https://x.io`<div>`") == "https://x.io\\`&lt;div&gt;\\`"


def test_pipes_and_line_breaks_stay_inside_the_cell() -> None:
    assert table_cell("a | b\nc\r\nd") == "a \\| b<br>c<br>d"
    assert slack_table_cell("<@U123> said a|b", NAMES) == "@alice said a\\|b"


def test_template_syntax_is_plain_text() -> None:
    assert table_cell("{{ 7*7 }} {% raw %}") == "{{ 7*7 }} {% raw %}"


def test_markdown_inline_is_one_line() -> None:
    assert markdown_inline("Gateway\n  down <@U123>", NAMES) == "Gateway down @alice"


def test_lone_surrogates_from_json_are_replaced() -> None:
    assert table_cell("a\ud800b") == "a\ufffdb"


def test_split_table_row_respects_escaped_pipes() -> None:
    line = "| 1 | a \\| b | @x |"
    spans = split_table_row(line)
    assert spans is not None
    assert [line[a:b].strip() for a, b in spans] == ["1", "a \\| b", "@x"]
    assert split_table_row("not | a row") is None


@given(st.text().filter(lambda t: not any(c in LINE_BREAKS for c in t)))
def test_any_single_line_text_round_trips_through_a_cell(text: str) -> None:
    expected = re.sub("[\ue000\ue001]", "", re.sub("[\ud800-\udfff]", "\ufffd", text)).strip()
    assert cell_text(table_cell(text)) == expected


@given(st.text())
def test_any_text_keeps_a_row_at_its_column_count(text: str) -> None:
    row = f"| 1 | {table_cell(text)} | @owner | Open |"
    assert "\n" not in row and len(row.splitlines()) == 1
    spans = split_table_row(row)
    assert spans is not None and len(spans) == 4
    assert row[spans[3][0] : spans[3][1]].strip() == "Open"


@needs_cmark
@settings(max_examples=300)
@given(slack_texts)
def test_github_renders_any_section_without_new_headings_or_html(text: str) -> None:
    cmark = importlib.import_module("cmarkgfm")
    document = f"## Before\n\n{slack_to_markdown(text, NAMES)}\n\n## After\n\nend\n"
    html = cmark.github_flavored_markdown_to_html(document, options=cmark.Options.CMARK_OPT_UNSAFE)
    assert re.findall(r"<h\d>", html) == ["<h2>", "<h2>"]
    assert html.rstrip().endswith("<h2>After</h2>\n<p>end</p>")
    assert not set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)) - _FORMATTING_TAGS


@needs_cmark
@settings(max_examples=300)
@given(slack_texts)
def test_github_renders_any_cell_as_one_cell(text: str) -> None:
    cmark = importlib.import_module("cmarkgfm")
    document = f"| a | b | c |\n|---|---|---|\n| x | {slack_table_cell(text, NAMES)} | y |\n"
    html = cmark.github_flavored_markdown_to_html(document, options=cmark.Options.CMARK_OPT_UNSAFE)
    cells = re.findall(r"<td>(.*?)</td>", html, re.DOTALL)
    assert len(cells) == 3 and cells[0] == "x" and cells[2] == "y"
    assert not set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)) - _FORMATTING_TAGS


_FORMATTING_TAGS = {
    "p", "code", "pre", "br", "em", "strong", "del", "a", "ul", "ol", "li", "hr",
    "table", "thead", "tbody", "tr", "th", "td", "h2", "img",
}  # fmt: skip
