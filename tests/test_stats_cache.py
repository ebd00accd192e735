"""The parsed RCAs `stats` keeps between runs: the same facts come back, and nothing stale is ever used."""

from __future__ import annotations

from pathlib import Path

from bot.core.stats_docs import RcaFacts, rca_facts
from bot.stats_cache import FileFactsCache, facts_cache_for
from tests.paths import FLEET_REPO, HAND_WRITTEN_RCA


def facts() -> dict[tuple[str, str], RcaFacts]:
    text = (FLEET_REPO / HAND_WRITTEN_RCA).read_text()
    return {(HAND_WRITTEN_RCA, "0" * 40): rca_facts(path=HAND_WRITTEN_RCA, text=text, tz="UTC")}


def test_kept_facts_come_back_as_they_were(tmp_path: Path) -> None:
    cache = FileFactsCache(tmp_path / "kept" / "stats-facts.json", tz="UTC")
    assert cache.load() == {}
    kept = facts()
    cache.save(kept)
    assert cache.load() == kept
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["stats-facts.json"]  # no temporary file left


def test_another_time_zone_or_a_broken_file_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "stats-facts.json"
    FileFactsCache(path, tz="UTC").save(facts())
    assert FileFactsCache(path, tz="Europe/Berlin").load() == {}  # times without a zone were read in UTC
    path.write_text('{"readers": "x", "tz": "UTC", "entries": [["a", "b", {"path": 1}]]}')
    assert FileFactsCache(path, tz="UTC").load() == {}
    path.write_text("not json")
    assert FileFactsCache(path, tz="UTC").load() == {}


def test_a_folder_that_cannot_be_written_only_costs_speed(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    FileFactsCache(blocker / "stats-facts.json", tz="UTC").save(facts())
    assert FileFactsCache(blocker / "stats-facts.json", tz="UTC").load() == {}


def test_the_cache_lives_in_the_clones_git_folder(tmp_path: Path) -> None:
    assert facts_cache_for(None, tz="UTC") is None
    assert facts_cache_for(str(tmp_path), tz="UTC") is None  # not a clone
    (tmp_path / ".git").mkdir()
    cache = facts_cache_for(str(tmp_path), tz="UTC")
    assert cache is not None
    cache.save(facts())
    assert (tmp_path / ".git" / "incident-bot" / "stats-facts.json").is_file()
