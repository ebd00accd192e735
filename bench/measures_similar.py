"""similar: ranking 5,000 RCAs against a new incident: digesting, building the index, one query, and memory.

The RCAs are synthetic but varied (bot-made and hand-written layouts, a realistic vocabulary, a fixed
seed), so every run ranks the same repo. The index is cached between queries while the repo is
unchanged, so the query time is the figure a declare pays; building is paid once per change.
Memory is read in a fresh interpreter: what importing `bot.search` costs (nothing should load), and
what the first ranking adds (bm25s and numpy, then the index itself).
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta

from bench.bots import REPO_ROOT, Tree
from bench.context import Context
from bench.report import Row
from bot.core.rca_digest import RcaDigest, digest_rca
from bot.search.similar import SimilarIndex

QUERY_GOAL_MS = 200.0
SEED = 20260223
QUERIES_PER_ROUND = 25

SYSTEMS = (
    "gateway", "auth service", "login", "billing export", "payments API", "checkout", "search cluster",
    "Postgres primary", "Redis cache", "Kafka consumers", "DNS", "CDN", "object storage", "webhooks",
    "notification service", "mobile push", "SSO", "CI runners", "deploy pipeline", "Kubernetes ingress",
    "rate limiter", "reporting jobs", "invoice emails", "data warehouse", "feature flags", "VPN",
)  # fmt: skip
SYMPTOMS = (
    "outage", "elevated 502 errors", "high latency", "timeouts", "failed logins", "slow responses",
    "crash loop", "memory leak", "disk full", "stale data", "duplicate messages", "dropped events",
    "certificate errors", "partial outage", "degraded throughput", "authentication failures",
)  # fmt: skip
CAUSES = (
    "an expired TLS certificate", "a config file missing after redeploy", "a bad deploy of the new release",
    "a missing database index", "connection pool exhaustion", "a retry storm from clients",
    "a DNS record pointing at the old load balancer", "a full disk on the primary", "a schema migration lock",
    "a rate limit set too low", "a feature flag enabled for every tenant", "clock skew between nodes",
    "an upstream provider incident", "a leaked file descriptor", "an unbounded queue", "a revoked API token",
)  # fmt: skip
EFFECTS = (
    "customers could not sign in", "agents saw errors in the console", "exports finished hours late",
    "payments were declined", "pages loaded slowly for most users", "alerts fired without a clear owner",
    "mobile clients retried aggressively", "support tickets doubled", "nightly jobs were skipped",
)  # fmt: skip
FIXES = (
    "rolled back the release", "restored the file from backup", "renewed the certificate",
    "added the index online", "raised the pool size", "failed over to the replica", "purged the cache",
    "paused the consumers and replayed the backlog", "rotated the credentials",
)  # fmt: skip


def synthetic_rca(rng: random.Random, number: int) -> tuple[str, str]:
    """A path and Markdown text of one RCA, bot-made or hand-written, from the shared vocabulary."""
    system, symptom, cause = rng.choice(SYSTEMS), rng.choice(SYMPTOMS), rng.choice(CAUSES)
    day = date(2019, 1, 1) + timedelta(days=rng.randrange(2900))
    title = f"{system[:1].upper()}{system[1:]} {symptom}"
    slug = "-".join(title.lower().split())
    path = f"DOCS/incidents/{day:%Y-%m-%d}-{slug}-{number}-rca.md"
    sentences = [
        f"{rng.choice(EFFECTS).capitalize()} while the {system} showed {symptom}.",
        f"The on-call engineer {rng.choice(FIXES)} after {rng.randrange(10, 240)} minutes.",
        *(
            f"Meanwhile {rng.choice(EFFECTS)} and the {rng.choice(SYSTEMS)} was checked."
            for _ in range(rng.randrange(4))
        ),
    ]
    causes = [f"- {cause[:1].upper()}{cause[1:]}.", *(f"- Also {rng.choice(CAUSES)}." for _ in range(rng.randrange(3)))]
    timeline = "\n".join(
        f"| {h:02d}:{m:02d} | @oncall | {rng.choice(EFFECTS)} |" for h, m in [(9, 5), (9, 40), (11, 2)]
    )
    severity = f"SEV-{rng.randrange(1, 4)}"
    if number % 3:
        text = (
            f"# RCA: {title}\n\n- **Severity:** {severity}\n- **Declared:** {day} 09:05 UTC\n"
            f"- **Resolved:** {day} 11:02 UTC\n- **Commander:** @oncall\n\n{' '.join(sentences)}\n\n"
            f"## Timeline\n\n| Time (UTC) | Author | Event |\n|---|---|---|\n{timeline}\n\n"
            f"## Root cause(s)\n\n" + "\n".join(causes) + f"\n\n## Resolution\n\nWe {rng.choice(FIXES)}.\n"
        )
    else:
        text = (
            f"# {title}\n\nDate: {day}  \nSeverity: {severity}\n\n## What happened\n\n{' '.join(sentences)}\n\n"
            f"## Root Cause\n\n" + "\n".join(causes) + "\n\n## Follow-ups\n\n- Add an alert.\n"
        )
    return path, text


def synthetic_repo(count: int, seed: int = SEED) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [synthetic_rca(rng, number) for number in range(count)]


def queries(count: int, seed: int = SEED + 1) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(SYSTEMS)} {rng.choice(SYMPTOMS)}, {rng.choice(EFFECTS)}" for _ in range(count)]


def similar(ctx: Context) -> list[Row]:
    """Digest and index `sizes.repo.rcas` synthetic RCAs, then time queries against the cached index."""
    count = ctx.sizes.repo.rcas
    repo = synthetic_repo(count)
    asked = queries(QUERIES_PER_ROUND)
    digest_s: list[float] = []
    build_s: list[float] = []
    query_ms: list[float] = []
    slowest_ms: list[float] = []
    for number in range(ctx.rounds):
        ctx.say(f"similar: round {number + 1}/{ctx.rounds}")
        started = time.perf_counter()
        digests: list[RcaDigest] = [digest_rca(path=path, text=text) for path, text in repo]
        digest_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        index = SimilarIndex(digests)
        build_s.append(time.perf_counter() - started)
        took: list[float] = []
        for text in asked:
            started = time.perf_counter()
            index.query(text=text, limit=3)
            took.append((time.perf_counter() - started) * 1000)
        query_ms.append(statistics.median(took))
        slowest_ms.append(max(took))
    memory = _memory(count)
    label, kind = Tree.current().label, ctx.dbs.kind
    query = Row(
        "similar", f"query, {count} RCAs (median)", "ms", kind, label, query_ms, goal=f"< {QUERY_GOAL_MS:.0f} ms"
    )
    query.met = query.bot_median < QUERY_GOAL_MS
    slowest = Row("similar", f"query, {count} RCAs (slowest)", "ms", kind, label, slowest_ms, aggregate="max")
    slowest.goal, slowest.met = f"< {QUERY_GOAL_MS:.0f} ms", slowest.bot_median < QUERY_GOAL_MS
    loaded = Row("similar", "ranking modules loaded by importing bot.search", "count", kind, label, [memory["loaded"]])
    loaded.goal, loaded.met = "0 (imported lazily)", memory["loaded"] == 0
    return [
        query,
        slowest,
        Row("similar", f"digest {count} RCAs", "s", kind, label, digest_s),
        Row("similar", f"index build, {count} RCAs (cached until a blob changes)", "s", kind, label, build_s),
        loaded,
        Row("similar", "RSS added by importing bot.search", "MB", kind, label, [memory["import_mb"]]),
        Row(
            "similar", "RSS added by loading bm25s and numpy (first ranking)", "MB", kind, label, [memory["library_mb"]]
        ),
        Row("similar", f"RSS added by the index of {count} RCAs", "MB", kind, label, [memory["index_mb"]]),
    ]


# A fresh interpreter, so nothing this process already loaded hides what `bot.search` costs.
PROBE = """
import json, sys
import dataclasses, hashlib, logging, pathlib, re, threading  # loaded by the idle bot already
import bot.core.markdown

def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))

start = rss()
from bot.search.similar import SimilarIndex
from bot.core.rca_digest import digest_rca
loaded = sum(1 for name in sys.modules if name.split(".")[0] in ("bm25s", "numpy"))
imported = rss()
SimilarIndex([digest_rca(path="a.md", text="# Gateway outage")])  # loads bm25s and numpy
library = rss()
from bench.measures_similar import synthetic_repo
digests = [digest_rca(path=path, text=text) for path, text in synthetic_repo(int(sys.argv[1]))]
made = rss()
index = SimilarIndex(digests)
built = rss()
steps = {"import_mb": imported - start, "library_mb": library - imported, "index_mb": built - made}
print(json.dumps({"loaded": loaded, **steps}))
"""


def _memory(count: int) -> dict[str, float]:
    """RSS steps in a fresh interpreter: import bot.search, load the library, build the index."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(count)], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures
