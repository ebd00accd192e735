"""The past incidents most like a new one, ranked with BM25 over the RCAs' titles, summaries and root causes.

The ranking library is bm25s (BM25 over sparse matrices, numpy its only dependency). It was chosen over:
- rank-bm25: its last release is from 2022, and it scores every document in pure Python per query;
- scikit-learn's TfidfVectorizer with cosine similarity: it brings scipy and joblib (about 300 MB
  installed against about 100 MB) and importing it costs about 110 MB of RSS and 0.7 s, against
  about 17-22 MB and 0.1 s for bm25s with numpy.
bm25s is released often, answers a query over 5,000 RCAs in a few milliseconds (`python -m bench
--only similar`), and its English stop word list is used here. The bot's idle RSS is at its budget,
so bm25s (and numpy) are imported only when an index is built, never when `bot.search` is imported.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import re
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import ModuleType
from typing import Any

from bot.core.rca_digest import RcaDigest, digest_rca

# A title says most about an incident, so its words count this many times.
TITLE_WEIGHT = 3
# BM25 (Lucene's idf) gives a word found in 90% of 5,000 RCAs about 0.1: below this is noise, not a match.
# It stays low because in a repo of a handful of RCAs every shared word is that common.
MIN_SCORE = 0.1
MIN_TOKEN_CHARS = 2
# Words of the library's stop list that say something in an incident ("site down", "ran out").
_MEANINGFUL = frozenset({"down", "up", "out", "off", "over", "under", "against"})
# Words every RCA and incident title is made of, which would otherwise match all of them.
_BOILERPLATE = frozenset({"incident", "incidents", "rca", "rcas", "postmortem", "sev", "severity", "issue", "issues"})
_SLACK_CONTROL = re.compile(r"<([^<>\n]*)>")
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_ENTITY = re.compile(r"&(?:[A-Za-z]+|#[0-9]+|#[xX][0-9A-Fa-f]+);")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SimilarIncident:
    path: str
    title: str
    severity: str | None
    happened_on: date | None
    score: float
    # What the RCA says happened and why, for a line on why it came up.
    summary: str = ""
    root_causes: str = ""


def tokenize(text: str) -> list[str]:
    """The meaningful words of Slack or Markdown text: lower-case, no stop words, links and mentions."""
    readable = _URL.sub(" ", _MARKDOWN_LINK.sub(r" \1 ", _SLACK_CONTROL.sub(_slack_label, text)))
    stop = _stop_words()
    return [
        word
        for word in _WORD.findall(_ENTITY.sub(" ", readable).casefold())
        if len(word) >= MIN_TOKEN_CHARS and word not in stop and not _is_noise_number(word)
    ]


class SimilarIndex:
    """A BM25 index of RCA digests, built once and queried for every new incident."""

    def __init__(self, digests: Sequence[RcaDigest]) -> None:
        self._digests = tuple(digests)
        corpus = [_document_tokens(digest) for digest in self._digests]
        self._model: Any = None
        if any(corpus):
            bm25s = _bm25s()
            self._model = bm25s.BM25(method="lucene")
            self._model.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return len(self._digests)

    def query(self, *, text: str, limit: int = 3, exclude_paths: Collection[str] = ()) -> list[SimilarIncident]:
        """The `limit` RCAs most like `text`, best first; only real matches, so possibly none."""
        if self._model is None or limit <= 0:
            return []
        ids = list(dict.fromkeys(self._model.get_tokens_ids(tokenize(text))))
        if not ids:
            return []
        scores = self._model.get_scores_from_ids(ids)
        excluded = set(exclude_paths)
        found = [
            (round(float(scores[index]), 6), self._digests[int(index)])
            for index in (scores > MIN_SCORE).nonzero()[0]
            if self._digests[int(index)].path not in excluded
        ]
        # Rounded scores tie exactly; then the newer incident, then the path, so the order never wobbles.
        found.sort(key=lambda pair: (-pair[0], -_day(pair[1].happened_on), pair[1].path))
        return [
            SimilarIncident(
                path=digest.path,
                title=digest.title,
                severity=digest.severity,
                happened_on=digest.happened_on,
                score=score,
                summary=digest.summary,
                root_causes=digest.root_causes,
            )
            for score, digest in found[:limit]
        ]


class SimilarSearch:
    """The index of the docs repo's RCAs as of their blob ids, rebuilt only when a blob changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._digests: dict[tuple[str, str], RcaDigest] = {}
        self._key: str | None = None
        self._index = SimilarIndex(())

    def search(
        self,
        *,
        blobs: Mapping[str, str],
        read: Callable[[Sequence[str]], Mapping[str, str]],
        text: str,
        limit: int = 3,
        exclude_paths: Collection[str] = (),
    ) -> list[SimilarIncident]:
        """The RCAs (path -> blob id) most like `text`; `read` is asked only for blobs not digested yet."""
        with self._lock:
            index = self._current(blobs, read)
        return index.query(text=text, limit=limit, exclude_paths=exclude_paths)

    def _current(self, blobs: Mapping[str, str], read: Callable[[Sequence[str]], Mapping[str, str]]) -> SimilarIndex:
        pairs = sorted(blobs.items())
        key = _repo_key(pairs)
        if key == self._key:
            return self._index
        unseen = sorted({blob for path, blob in pairs if (path, blob) not in self._digests})
        texts = read(unseen) if unseen else {}
        digests: dict[tuple[str, str], RcaDigest] = {}
        for path, blob in pairs:
            if (path, blob) in self._digests:
                digests[(path, blob)] = self._digests[(path, blob)]
            elif blob in texts:
                digests[(path, blob)] = digest_rca(path=path, text=texts[blob])
        # Digests of blobs no longer in the repo are dropped, so memory follows the repo, not its history.
        self._digests = digests
        self._index = SimilarIndex(list(digests.values()))
        # A blob that could not be read is asked for again next time instead of being cached as missing.
        self._key = key if len(digests) == len(pairs) else None
        return self._index


def _repo_key(pairs: Sequence[tuple[str, str]]) -> str:
    # A digest, not the pairs themselves: 5,000 paths and blob ids need not be kept to compare them.
    joined = "\0".join(f"{path}\0{blob}" for path, blob in pairs)
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()


def _document_tokens(digest: RcaDigest) -> list[str]:
    return tokenize(digest.title) * TITLE_WEIGHT + tokenize(digest.summary) + tokenize(digest.root_causes)


def _slack_label(match: re.Match[str]) -> str:
    target, _, label = match.group(1).partition("|")
    # A person's name or id says nothing about what broke; a link's or channel's label may.
    if target.startswith(("@", "!")):
        return " "
    return f" {label or (target[1:] if target.startswith('#') else '')} "


def _is_noise_number(word: str) -> bool:
    # Dates, times and counts match across unrelated RCAs; three digits are kept for HTTP codes (502).
    return word.isdigit() and len(word) != 3


def _day(day: date | None) -> int:
    return day.toordinal() if day else 0


@functools.cache
def _stop_words() -> frozenset[str]:
    stopwords: ModuleType = _bm25s().stopwords
    return (frozenset(stopwords.STOPWORDS_EN_PLUS) - _MEANINGFUL) | _BOILERPLATE


@functools.cache
def _bm25s() -> ModuleType:
    bm25s = importlib.import_module("bm25s")
    # bm25s sets its logger to DEBUG on import, which would put a line per index build in the bot's log.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s
