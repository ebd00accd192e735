"""`/incident reopen`, in the incident's channel or naming it from anywhere."""

import pytest

from bot.core.commands import Reopen, parse_command
from bot.core.errors import InvalidInput


def test_reopen_in_the_channel_or_naming_it() -> None:
    assert parse_command("reopen") == Reopen()
    assert parse_command("REOPEN <#C0INC1|inc-20261118-db-down>") == Reopen(room_id="C0INC1")
    assert parse_command("reopen <#C0INC1>") == Reopen(room_id="C0INC1")


@pytest.mark.parametrize("text", ["reopen now", "reopen #inc-20261118-db-down", "reopen <@U1|alice>"])
def test_reopen_with_anything_but_a_channel_says_how(text: str) -> None:
    with pytest.raises(InvalidInput, match="/incident reopen #its-channel"):
        parse_command(text)
