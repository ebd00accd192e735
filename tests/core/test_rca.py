"""The RCA draft, its file name, and the lines it adds to fleet-status.md and the runbook."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import InvalidInput
from bot.core.models import ActionItem, ActionStatus, Incident, Severity, TimelineEntry, TimelineKind
from bot.core.rca import (
    fleet_status_line,
    make_timeline_table,
    parse_rca,
    rca_environment,
    rca_filename,
    render_rca,
    safe_join,
)

# The template shipped in the package, as the composition root finds it when TEMPLATES_DIR is unset.
SHIPPED = rca_environment(jinja2.PackageLoader("bot", "templates"))
SECTIONS = ["## Timeline", "## Root cause(s)", "## Resolution", "## Lessons learned", "## Action items"]
NAMES = {"U0MATT": "matt", "U0CTO": "cto"}
RCA_PATH = "DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md"


def at(hour: int, minute: int, day: int = 23) -> datetime:
    return datetime(2026, 2, day, hour, minute, tzinfo=UTC)


def incident(**changes: object) -> Incident:
    fields: dict[str, object] = {
        "id": 7,
        "title": "Gateway auth outage",
        "severity": Severity.SEV2,
        "commander_id": "U0MATT",
        "declared_by": "U0MATT",
        "declared_at": at(6, 10),
        "resolved_at": at(8, 45),
    }
    return Incident.model_validate(fields | changes)


def entry(moment: datetime, text: str, author: str | None = "U0MATT", link: str | None = None) -> TimelineEntry:
    return TimelineEntry(
        incident_id=7, kind=TimelineKind.MESSAGE, occurred_at=moment, author_id=author, text=text, permalink=link
    )


def item(number: int, action: str, *, owner: str | None = None, label: str = "", status: ActionStatus) -> ActionItem:
    return ActionItem(
        incident_id=7, number=number, action=action, owner_id=owner, owner_label=label, status=status,
        created_at=at(9, 0), updated_at=at(9, 0),
    )  # fmt: skip


def render(**changes: object) -> str:
    arguments: dict[str, object] = {
        "incident": incident(),
        "timeline": [
            entry(at(7, 5), "Found `auth-profiles.json` missing", author="U0CTO"),
            entry(at(6, 10), "Watchdog: 6/10 agents failing", link="https://acme.slack.com/archives/C1/p1"),
        ],
        "action_items": [
            item(2, "Add a startup check", owner="U0CTO", status=ActionStatus.IN_PROGRESS),
            item(1, "Move `auth-profiles.json` into the bundle", owner="U0CTO", status=ActionStatus.DONE),
            item(3, "Update the runbook", label="@docs", status=ActionStatus.OPEN),
        ],
        "names": NAMES,
        "summary": "6 of 10 agents failed.",
        "root_causes": "- The redeploy dropped the file.",
        "resolution": "Restored from backup.",
        "lessons": "",
        "templates": SHIPPED,
    }
    return render_rca(**(arguments | changes))  # type: ignore[arg-type]


def table_rows(markdown: str, heading: str) -> list[str]:
    section = markdown.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|")]


# --- render_rca ----------------------------------------------------------------------------------


def test_rca_has_the_header_and_the_runbook_sections_in_order() -> None:
    markdown = render()
    assert markdown.startswith(
        "# RCA: Gateway auth outage\n\n"
        "- **Severity:** SEV-2\n"
        "- **Declared:** 2026-02-23 06:10 UTC\n"
        "- **Resolved:** 2026-02-23 08:45 UTC\n"
        "- **Commander:** @matt\n\n"
        "6 of 10 agents failed.\n\n## Timeline\n"
    )
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == SECTIONS
    assert markdown.endswith("|\n") and not markdown.endswith("\n\n")


def test_timeline_is_oldest_first_with_author_and_link() -> None:
    assert table_rows(render(), "## Timeline") == [
        "| Time (UTC) | Author | Event | Link |",
        "|------------|--------|-------|------|",
        "| 06:10 | @matt | Watchdog: 6/10 agents failing | [link](https://acme.slack.com/archives/C1/p1) |",
        "| 07:05 | @cto | Found `auth-profiles.json` missing |  |",
    ]


def test_timeline_rows_carry_the_date_when_the_incident_spans_two_local_days() -> None:
    markdown = render(
        incident=incident(declared_at=at(22, 10), resolved_at=at(1, 45, day=24)),
        timeline=[entry(at(22, 10), "declared"), entry(at(1, 45, day=24), "resolved")],
    )
    rows = table_rows(markdown, "## Timeline")
    assert rows[2].startswith("| 2026-02-23 22:10 |") and rows[3].startswith("| 2026-02-24 01:45 |")


def test_times_follow_the_configured_time_zone() -> None:
    # 22:10 UTC on the 23rd is 23:10 in Berlin: still one local day, so rows show only the time.
    markdown = render(
        incident=incident(declared_at=at(22, 10), resolved_at=at(22, 50)),
        timeline=[entry(at(22, 10), "declared")],
        tz="Europe/Berlin",
    )
    assert "- **Declared:** 2026-02-23 23:10 Europe/Berlin" in markdown
    assert "| Time (Europe/Berlin) | Author | Event | Link |" in markdown
    assert "| 23:10 | @matt | declared |  |" in markdown


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="Mars/Olympus"):
        render(tz="Mars/Olympus")


def test_action_items_table_has_the_runbook_columns_and_readable_owners() -> None:
    assert table_rows(render(), "## Action items") == [
        "| # | Action | Owner | Status |",
        "|---|--------|-------|--------|",
        "| 1 | Move `auth-profiles.json` into the bundle | @cto (U0CTO) | ✅ DONE |",
        "| 2 | Add a startup check | @cto (U0CTO) | In progress |",
        "| 3 | Update the runbook | @docs | Open |",
    ]


def test_rendered_action_items_read_back_with_owner_ids() -> None:
    rows = parse_rca(render()).action_items
    assert [(r.number, r.owner, r.owner_id, r.status) for r in rows] == [
        (1, "@cto", "U0CTO", ActionStatus.DONE),
        (2, "@cto", "U0CTO", ActionStatus.IN_PROGRESS),
        (3, "@docs", None, ActionStatus.OPEN),
    ]


def test_unknown_users_are_shown_by_id() -> None:
    markdown = render(incident=incident(commander_id="U0NOBODY"), names={})
    assert "- **Commander:** @U0NOBODY" in markdown
    assert "| 1 | Move `auth-profiles.json` into the bundle | @U0CTO | ✅ DONE |" in markdown


def test_empty_sections_get_a_placeholder_and_an_empty_summary_is_left_out() -> None:
    markdown = render(summary=" ", root_causes="", resolution="", lessons="", incident=incident(resolved_at=None))
    assert "- **Resolved:** _TBD_" in markdown
    assert "- **Commander:** @matt\n\n## Timeline" in markdown
    for heading in SECTIONS[1:4]:
        assert f"{heading}\n\n_TBD_\n\n## " in markdown


def numbered(*entries: TimelineEntry) -> list[TimelineEntry]:
    return [e.model_copy(update={"id": number}) for number, e in enumerate(entries, start=1)]


def test_rows_made_ahead_give_the_very_same_rca_with_the_entries_added_since() -> None:
    timeline = numbered(
        entry(at(6, 10), "Watchdog: 6/10 agents failing", link="https://acme.slack.com/archives/C1/p1"),
        entry(at(7, 5), "<@U0CTO> found `auth-profiles.json` missing", author="U0CTO"),
        entry(at(8, 45), "Incident resolved"),
        entry(at(6, 30), "A pinned message from earlier"),
    )
    made = make_timeline_table(timeline[:2], NAMES, tz="UTC")
    assert render(timeline=timeline, made=made) == render(timeline=timeline)
    assert "| 06:30 | @matt | A pinned message from earlier |  |" in render(timeline=timeline, made=made)


def test_rows_made_with_other_names_or_in_another_zone_are_made_again() -> None:
    timeline = numbered(entry(at(7, 5), "<@U0CTO> found it", author="U0CTO"))
    made = make_timeline_table(timeline, {"U0CTO": "cto"}, tz="UTC")
    renamed = render(timeline=timeline, names={**NAMES, "U0CTO": "chief"}, made=made)
    assert "| 07:05 | @chief | @chief found it |  |" in renamed
    assert "| 08:05 | @cto |" in render(timeline=timeline, tz="Europe/Berlin", made=made)
    unknown = make_timeline_table(timeline, {}, tz="UTC")  # the name was not known when they were made
    assert "| 07:05 | @cto | @cto found it |  |" in render(timeline=timeline, made=unknown)


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=-2000, max_value=2000), min_size=1, max_size=12),
    made_count=st.integers(min_value=0, max_value=12),
    made_names=st.sampled_from([NAMES, {"U0MATT": "matthew"}, {}]),
    made_tz=st.sampled_from(["UTC", "Asia/Tokyo"]),
    tz=st.sampled_from(["UTC", "Asia/Tokyo", "America/Los_Angeles"]),
)
def test_a_table_made_ahead_never_changes_the_rca(
    offsets: list[int], made_count: int, made_names: dict[str, str], made_tz: str, tz: str
) -> None:
    """Whatever a table was made from (some of the entries, other names, another zone; across local
    days or not), the RCA is the one made without it."""
    timeline = numbered(
        *(
            entry(at(6, 10) + timedelta(minutes=offset), f"<@U0CTO> step {n}", author=("U0MATT", "U0CTO")[n % 2])
            for n, offset in enumerate(offsets)
        )
    )
    made = make_timeline_table(timeline[:made_count], made_names, tz=made_tz)
    assert render(timeline=timeline, tz=tz, made=made) == render(timeline=timeline, tz=tz)


def test_nasty_input_stays_text() -> None:
    markdown = render(
        incident=incident(title="DB | <script>x</script> {{ 7*7 }}"),
        timeline=[entry(at(7, 0), "a | b\n# not a heading `x|y` <@U0CTO> <!here>")],
        root_causes="# Not a heading\n{{ config }}\n{% include 'x' %}\n```\nunclosed fence",
        resolution="<https://x.io|the fix> &lt;b&gt;",
        action_items=[item(1, "Fix | it\nnow <script>", owner="U0CTO", status=ActionStatus.OPEN)],
    )
    assert markdown.startswith("# RCA: DB | &lt;script&gt;x&lt;/script&gt; {{ 7*7 }}\n")
    assert [line for line in markdown.splitlines() if line.startswith("## ")] == SECTIONS
    assert "| 07:00 | @matt | a \\| b<br># not a heading `x\\|y` @cto @here |  |" in markdown
    assert "\\# Not a heading\n{{ config }}\n{% include 'x' %}\n```\nunclosed fence\n```\n\n## Resolution" in markdown
    assert "[the fix](https://x.io) &lt;b&gt;" in markdown
    assert "| 1 | Fix \\| it<br>now &lt;script&gt; | @cto (U0CTO) | Open |" in markdown
    assert "<script>" not in markdown and "49" not in markdown


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=4))
def test_any_action_text_reads_back_from_the_rendered_table(actions: list[str]) -> None:
    items = [item(n, text, status=ActionStatus.OPEN) for n, text in enumerate(actions, start=1)]
    parsed = parse_rca(render(action_items=items, names={}))
    assert parsed.problems == []
    assert [row.number for row in parsed.action_items] == list(range(1, len(actions) + 1))


def test_an_environment_can_be_passed_in() -> None:
    environment = rca_environment(jinja2.DictLoader({"rca.md.j2": "{{ title }}"}))
    assert render(templates=environment) == "Gateway auth outage\n"


def test_a_template_using_an_unknown_variable_fails_loudly() -> None:
    environment = rca_environment(jinja2.DictLoader({"rca.md.j2": "{{ titel }}"}))
    with pytest.raises(jinja2.UndefinedError):
        render(templates=environment)


# --- the fleet-status line -------------------------------------------------------------------------------

FIXTURE_SUMMARY = (
    "6 of 10 agents failed because `auth-profiles.json` was missing after a redeploy; "
    "the file was restored and a startup check added"
)


def test_fleet_status_line_matches_the_runbook_format() -> None:
    line = fleet_status_line(incident=incident(), summary=FIXTURE_SUMMARY, rca_path=RCA_PATH, tz="UTC")
    assert line == (
        "- [system] **INCIDENT — SEV-2 Gateway auth outage (2026-02-23 06:10–08:45 UTC).** "
        f"{FIXTURE_SUMMARY}. Full RCA: `{RCA_PATH}`"
    )


def test_fleet_status_line_across_days_and_without_an_rca() -> None:
    sev3 = incident(
        title="Docs agent\nstuck", severity=Severity.SEV3, declared_at=at(22, 10), resolved_at=at(1, 45, day=24)
    )
    line = fleet_status_line(incident=sev3, summary="Restarted it.", rca_path=None, tz="UTC")
    assert line == (
        "- [system] **INCIDENT — SEV-3 Docs agent stuck (2026-02-23 22:10 – 2026-02-24 01:45 UTC).** Restarted it."
    )


@pytest.mark.parametrize(
    ("summary", "ending"),
    [("Fixed", "Fixed."), ("Fixed.", "Fixed."), ("Fixed...  ", "Fixed."), ("Fixed?", "Fixed?"), ("", "UTC).**")],
)
def test_fleet_status_summary_ends_with_one_period(summary: str, ending: str) -> None:
    assert fleet_status_line(incident=incident(), summary=summary, rca_path=None, tz="UTC").endswith(ending)


# --- file names --------------------------------------------------------------------------------


def test_rca_filename_follows_the_runbook() -> None:
    day = date(2026, 2, 23)
    assert rca_filename(declared_on=day, title="Gateway auth outage!", taken=set()) == (
        "2026-02-23-gateway-auth-outage-rca.md"
    )
    taken = {"2026-02-23-gateway-auth-outage-rca.md", "2026-02-23-gateway-auth-outage-2-rca.md"}
    assert rca_filename(declared_on=day, title="Gateway auth outage", taken=taken) == (
        "2026-02-23-gateway-auth-outage-3-rca.md"
    )
    assert rca_filename(declared_on=day, title="数据泄露", taken=set()) == "2026-02-23-incident-rca.md"
    long_name = rca_filename(declared_on=day, title="word " * 40, taken=set())
    assert re.fullmatch(r"2026-02-23-[a-z-]{1,60}[a-z]-rca\.md", long_name)


@pytest.mark.parametrize("bad", ["../x.md", "/etc/passwd", "a\\..\\b.md", "", "a/../../b.md", "C:x.md", "./x.md"])
def test_safe_join_refuses_paths_that_leave_the_folder(bad: str) -> None:
    with pytest.raises(ValueError):
        safe_join("DOCS/incidents", bad)


def test_safe_join_joins_plain_names() -> None:
    assert safe_join("DOCS/incidents", "2026-02-23-x-rca.md") == "DOCS/incidents/2026-02-23-x-rca.md"
