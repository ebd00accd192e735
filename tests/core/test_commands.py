import pytest

from bot.core.commands import (
    AddNote,
    OpenDeclareForm,
    SeverityCommand,
    ShowHelp,
    ShowStatus,
    ShowTimeline,
    parse_command,
    parse_severity,
)
from bot.core.errors import InvalidCommand, InvalidInput, InvalidSeverity
from bot.core.models import Severity


@pytest.mark.parametrize("word", ["sev1", "SEV-1", "SEV1", "Sev-1", "sev_1"])
def test_every_documented_spelling_of_sev1(word: str) -> None:
    assert parse_severity(word) is Severity.SEV1


@pytest.mark.parametrize("word", ["sev9", "sev0", "SEV-4", "sev"])
def test_unknown_severities_are_refused_with_the_runbook_levels(word: str) -> None:
    with pytest.raises((InvalidSeverity, InvalidCommand)) as caught:
        parse_command(f"{word} Something broke")
    assert "SEV" in caught.value.user_message or "sev" in caught.value.user_message


def test_declare_keeps_the_title_exactly() -> None:
    title = "Ünïcode 🚨 *bold* `code` <script> 数据泄露 | pipes"
    assert parse_command(f"sev2 {title}") == SeverityCommand(Severity.SEV2, title)


def test_severity_without_title_is_a_change() -> None:
    assert parse_command("SEV-3") == SeverityCommand(Severity.SEV3, None)


def test_simple_subcommands() -> None:
    assert parse_command("") == OpenDeclareForm()
    assert parse_command("   ") == OpenDeclareForm()
    assert parse_command("timeline") == ShowTimeline()
    assert parse_command("STATUS") == ShowStatus()
    assert parse_command("help") == ShowHelp()
    assert parse_command("note  the db is back ") == AddNote("the db is back")


def test_unknown_subcommand_names_it_and_shows_help() -> None:
    with pytest.raises(InvalidCommand) as caught:
        parse_command("frobnicate now")
    assert "`/incident frobnicate`" in caught.value.user_message
    assert "/incident note" in caught.value.user_message


def test_empty_note_is_refused() -> None:
    with pytest.raises(InvalidInput):
        parse_command("note")
