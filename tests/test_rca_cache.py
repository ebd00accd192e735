"""The parsed RCAs `scan` keeps between runs: the same rows come back, and nothing stale is ever used."""

from __future__ import annotations

from pathlib import Path

from bot.core.rca_parse import ParsedRca, parse_rca
from bot.rca_cache import FileParsedRcas, parsed_rcas_for
from tests.paths import FLEET_REPO, HAND_WRITTEN_RCA

BROKEN = """# RCA: Sloppy

- **Severity:** SEV-2

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | Rotate the keys | Matt (U123ABC) | In progress |
| two | Not a number | @matt | Open |
"""


def parsed() -> dict[str, ParsedRca]:
    return {
        "1" * 40: parse_rca((FLEET_REPO / HAND_WRITTEN_RCA).read_text()),
        "2" * 40: parse_rca(BROKEN),
        "3" * 40: parse_rca("no title, no table"),
    }


def test_kept_rcas_come_back_as_they_were(tmp_path: Path) -> None:
    cache = FileParsedRcas(tmp_path / "kept" / "parsed-rcas.json")
    assert cache.load() == {}
    kept = parsed()
    assert kept["2" * 40].problems and kept["2" * 40].action_items[0].owner_id == "U123ABC"
    cache.save(kept)
    assert cache.load() == kept
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["parsed-rcas.json"]  # no temporary file left


def test_other_readers_or_a_broken_file_are_not_used(tmp_path: Path) -> None:
    path = tmp_path / "parsed-rcas.json"
    FileParsedRcas(path).save(parsed())
    text = path.read_text()
    path.write_text(text.replace('"readers":"', '"readers":"old', 1))  # the parser's code changed since
    assert FileParsedRcas(path).load() == {}
    path.write_text(text.replace('"Open"', '"Someday"'))
    assert FileParsedRcas(path).load() == {}
    path.write_text("not json")
    assert FileParsedRcas(path).load() == {}


def test_a_folder_that_cannot_be_written_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    FileParsedRcas(blocker / "parsed-rcas.json").save(parsed())
    assert FileParsedRcas(blocker / "parsed-rcas.json").load() == {}


def test_the_cache_lives_in_the_clones_git_folder(tmp_path: Path) -> None:
    assert parsed_rcas_for(None) is None
    assert parsed_rcas_for(str(tmp_path)) is None  # not a clone
    (tmp_path / ".git").mkdir()
    cache = parsed_rcas_for(str(tmp_path))
    assert cache is not None
    cache.save(parsed())
    assert (tmp_path / ".git" / "incident-bot" / "parsed-rcas.json").is_file()
