"""Similar past incidents: which RCAs a new incident is ranked against, in what order, and what gets re-read."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import Incident, Severity
from bot.core.rca import rca_environment, render_rca
from bot.core.rca_digest import RcaDigest, digest_rca
from bot.search.similar import SimilarIncident, SimilarIndex, SimilarSearch, tokenize

SHIPPED = rca_environment(jinja2.PackageLoader("bot", "templates"))
GATEWAY = "DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md"
POSTGRES = "DOCS/incidents/2025-09-14-postgres-failover-rca.md"
CDN = "DOCS/incidents/2025-04-02-cdn-certificate-expired-rca.md"
BILLING = "DOCS/incidents/2024-11-04-billing-export-slow-rca.md"
SSO = "DOCS/incidents/2024-02-10-sso-login-loop-rca.md"


def bot_made(*, title: str, severity: Severity, declared: datetime, summary: str, root_causes: str) -> str:
    incident = Incident.model_validate(
        {
            "id": 1,
            "title": title,
            "severity": severity,
            "commander_id": "U0MATT",
            "declared_by": "U0MATT",
            "declared_at": declared,
            "resolved_at": declared,
        }
    )
    return render_rca(
        incident=incident,
        timeline=[],
        action_items=[],
        names={"U0MATT": "matt"},
        summary=summary,
        root_causes=root_causes,
        resolution="Fixed.",
        lessons="",
        templates=SHIPPED,
    )


TEXTS = {
    GATEWAY: bot_made(
        title="Gateway auth outage",
        severity=Severity.SEV2,
        declared=datetime(2026, 2, 23, 6, 10, tzinfo=UTC),
        summary="6 of 10 agents could not log in: the gateway answered 401 Unauthorized.",
        root_causes="- The redeploy dropped `auth-profiles.json` from the gateway host.",
    ),
    POSTGRES: bot_made(
        title="Postgres primary failover",
        severity=Severity.SEV1,
        declared=datetime(2025, 9, 14, 22, 0, tzinfo=UTC),
        summary="Writes failed for 12 minutes while the database primary failed over to the replica.",
        root_causes="- The primary's disk filled with WAL files.",
    ),
    CDN: (
        "# CDN certificate expired\n\nSeverity: SEV-2\n\n## What happened\n\n"
        "Browsers refused the static assets: the CDN's TLS certificate had expired.\n\n"
        "## Root Cause\n\nThe certificate renewal job had been failing silently for a month.\n"
    ),
    BILLING: (
        "# Billing export slow\n\n**Date:** 2024-11-04, **Severity:** Sev 3\n\n## Summary\n\n"
        "The nightly billing CSV export took 9 hours instead of 20 minutes.\n\n"
        "## Root cause(s)\n\nA missing index on the invoices table.\n"
    ),
    SSO: (
        "# SSO login loop\n\n## Overview\n\nUsers signing in with SSO were sent back to the login page.\n\n"
        "## Root causes\n\nA cookie domain change in the identity provider settings.\n"
    ),
}


def digests(texts: Mapping[str, str] = TEXTS) -> list[RcaDigest]:
    return [digest_rca(path=path, text=text) for path, text in texts.items()]


def paths(found: Sequence[SimilarIncident]) -> list[str]:
    return [incident.path for incident in found]


def test_a_gateway_auth_failure_finds_the_gateway_auth_rca_first_and_not_the_billing_one() -> None:
    found = SimilarIndex(digests()).query(text="Gateway auth failure, agents can't log in")
    assert found[0].path == GATEWAY
    assert found[0].title == "Gateway auth outage"
    assert found[0].severity == "SEV-2"
    assert found[0].happened_on == date(2026, 2, 23)
    assert BILLING not in paths(found)
    assert len(found) <= 3
    assert [i.score for i in found] == sorted((i.score for i in found), reverse=True)


def test_hand_written_rcas_are_found_by_their_summary_and_root_causes() -> None:
    index = SimilarIndex(digests())
    assert paths(index.query(text="Static assets broken, TLS certificate expired on the CDN"))[0] == CDN
    assert paths(index.query(text="invoices export taking hours"))[0] == BILLING
    assert paths(index.query(text="users stuck in a login loop after SSO sign in"))[0] == SSO


def test_a_query_sharing_no_meaningful_word_finds_nothing() -> None:
    index = SimilarIndex(digests())
    assert index.query(text="Quarterly planning offsite") == []
    assert index.query(text="the and of it was <@U0MATT>") == []
    assert index.query(text="Incident: SEV-2 issue, 2026-02-23") == []  # words every RCA has
    assert index.query(text="") == []


def test_limit_caps_the_results_and_exclude_paths_leaves_the_new_incident_out() -> None:
    index = SimilarIndex(digests())
    text = "login failures: users could not log in, auth errors, SSO and gateway"
    assert len(index.query(text=text, limit=1)) == 1
    assert index.query(text=text, limit=0) == []
    everything = paths(index.query(text=text, limit=10))
    assert {GATEWAY, SSO} <= set(everything)
    without = paths(index.query(text=text, limit=10, exclude_paths={GATEWAY}))
    assert without == [path for path in everything if path != GATEWAY]


def test_a_title_match_outranks_the_same_word_in_a_root_cause() -> None:
    texts = {
        "DOCS/incidents/2025-01-01-redis-eviction-storm-rca.md": "# Redis eviction storm\n\nKeys vanished.\n",
        "DOCS/incidents/2025-01-02-search-slow-rca.md": (
            "# Search slow\n\n## Summary\n\nQueries took 5 s.\n\n## Root cause\n\nA redis eviction storm upstream.\n"
        ),
    }
    found = SimilarIndex(digests(texts)).query(text="redis eviction storm again")
    assert paths(found) == list(texts)


def test_equal_scores_put_the_newer_incident_first_then_the_path_whatever_the_input_order() -> None:
    same = "# Queue stuck\n\n## Summary\n\nThe job queue stopped draining.\n"
    texts = {
        "DOCS/incidents/2024-05-01-queue-b-rca.md": same,
        "DOCS/incidents/2025-05-01-queue-b-rca.md": same,
        "DOCS/incidents/2025-05-01-queue-a-rca.md": same,
        "DOCS/incidents/undated-queue.md": same,
    }
    expected = [
        "DOCS/incidents/2025-05-01-queue-a-rca.md",
        "DOCS/incidents/2025-05-01-queue-b-rca.md",
        "DOCS/incidents/2024-05-01-queue-b-rca.md",
    ]
    forward = SimilarIndex(digests(texts)).query(text="queue stuck")
    backward = SimilarIndex(list(reversed(digests(texts)))).query(text="queue stuck")
    assert paths(forward) == paths(backward) == expected
    assert len({i.score for i in forward}) == 1


def test_slack_markup_in_the_new_incident_is_read_as_words() -> None:
    text = "<@U0MATT> says <https://status.example.com/gateway|gateway status> shows auth errors &amp; 401s"
    assert tokenize(text) == ["says", "gateway", "status", "shows", "auth", "errors", "401s"]
    assert paths(SimilarIndex(digests()).query(text=text))[0] == GATEWAY


def test_an_empty_repo_or_rcas_without_words_find_nothing() -> None:
    assert SimilarIndex([]).query(text="gateway") == []
    empty = [digest_rca(path="DOCS/incidents/a.md", text="# ---\n")]
    assert SimilarIndex(empty).query(text="gateway") == []


INDEX = SimilarIndex(digests())


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.text(), st.lists(st.sampled_from(["<@U1>", "<", ">", "|", "&amp;", "[x](", "gateway"])).map("".join)
    )
)
def test_any_query_text_is_answered_without_raising(text: str) -> None:
    found = INDEX.query(text=text)
    assert len(found) <= 3
    assert all(incident.score > 0 for incident in found)


class Repo:
    """The docs repo's RCAs as blobs, and a record of which blob ids the search asked to read."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)
        self.reads: list[list[str]] = []

    def blobs(self) -> dict[str, str]:
        return {path: hashlib.sha1(text.encode()).hexdigest() for path, text in self.texts.items()}

    def read(self, blob_ids: Sequence[str]) -> Mapping[str, str]:
        self.reads.append(list(blob_ids))
        by_blob = {blob: self.texts[path] for path, blob in self.blobs().items()}
        return {blob: by_blob[blob] for blob in blob_ids if blob in by_blob}


QUERY = "Gateway auth failure, agents can't log in"


def test_the_search_reads_each_blob_once_and_only_new_blobs_after_a_change() -> None:
    repo, search = Repo(TEXTS), SimilarSearch()
    first = search.search(blobs=repo.blobs(), read=repo.read, text=QUERY)
    assert paths(first)[0] == GATEWAY
    assert len(repo.reads) == 1 and sorted(repo.reads[0]) == sorted(repo.blobs().values())

    assert search.search(blobs=repo.blobs(), read=repo.read, text="Postgres primary failover") != []
    assert len(repo.reads) == 1  # unchanged repo: nothing read again

    repo.texts[BILLING] = TEXTS[BILLING].replace("Billing export slow", "Gateway auth outage again")
    again = search.search(blobs=repo.blobs(), read=repo.read, text=QUERY)
    assert repo.reads[1] == [repo.blobs()[BILLING]]
    assert set(paths(again)) >= {GATEWAY, BILLING}

    del repo.texts[GATEWAY]
    gone = search.search(blobs=repo.blobs(), read=repo.read, text=QUERY)
    assert GATEWAY not in paths(gone)
    assert len(repo.reads) == 2  # a removed file needs no read


def test_a_blob_that_could_not_be_read_is_asked_for_again_next_time() -> None:
    repo, search = Repo(TEXTS), SimilarSearch()
    blobs = {**repo.blobs(), "DOCS/incidents/2026-03-01-lost-rca.md": "blob-missing"}
    assert paths(search.search(blobs=blobs, read=repo.read, text=QUERY))[0] == GATEWAY
    search.search(blobs=blobs, read=repo.read, text=QUERY)
    assert repo.reads[1] == ["blob-missing"]


def test_concurrent_searches_get_the_same_answer_and_read_each_blob_once() -> None:
    repo, search = Repo(TEXTS), SimilarSearch()
    start = threading.Barrier(4)
    answers: list[list[str]] = []

    def declare() -> None:
        start.wait()
        answers.append(paths(search.search(blobs=repo.blobs(), read=repo.read, text=QUERY, exclude_paths={SSO})))

    threads = [threading.Thread(target=declare) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and all(answer == answers[0] for answer in answers)
    assert answers[0][0] == GATEWAY and SSO not in answers[0]
    assert len(repo.reads) == 1


def test_importing_bot_search_loads_no_ranking_library() -> None:
    probe = (
        "import sys, bot.search.similar; print(sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'numpy')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
