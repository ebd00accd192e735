from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from bot.core.naming import incident_channel_name, slugify

DAY = date(2026, 11, 25)


def test_name_from_title() -> None:
    assert incident_channel_name("Database is DOWN!", DAY) == "inc-20261125-database-is-down"


def test_suffix_after_clash() -> None:
    assert incident_channel_name("db down", DAY, 3) == "inc-20261125-db-down-3"


def test_non_latin_title_falls_back_to_incident() -> None:
    assert incident_channel_name("数据泄露 🚨", DAY) == "inc-20261125-incident"


def test_accents_are_folded() -> None:
    assert slugify("Café Über-Ausfall") == "cafe-uber-ausfall"


@given(st.text(), st.integers(min_value=1, max_value=999))
def test_any_title_gives_a_valid_slack_channel_name(title: str, attempt: int) -> None:
    name = incident_channel_name(title, DAY, attempt)
    assert len(name) <= 80
    assert name.startswith("inc-20261125-")
    assert all(ch.isascii() and (ch.islower() or ch.isdigit() or ch == "-") for ch in name)
    assert "--" not in name.removeprefix("inc-20261125-")
    if attempt > 1:
        assert name.endswith(f"-{attempt}")


def test_chat_markup_in_titles_is_read_not_slugged() -> None:
    assert slugify("&lt;script&gt; broke <@U1|bob>'s <#C1|deploys> &amp; more") == "script-broke-bob-s-deploys-more"
