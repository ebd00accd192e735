"""Latency load: signed Slack requests sent by N client threads, one connection per request, timed each.

The bodies are built in the bench process (they need the fake Slack's trigger ids and response URLs);
the load itself runs in a process of its own (`python -m bench.load SPEC OUT`), so the fake Slack
answering the bot in the bench process does not slow the clients down. Each request is signed just
before it is sent, and its time runs from opening the connection to the last byte of the answer.
"""

from __future__ import annotations

import http.client
import json
import math
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bench.bots import REPO_ROOT
from slack_sim import FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, in completion order
    sent_at: list[float] = field(default_factory=list)  # each one's send, as a Unix time (same order)
    statuses: dict[str, int] = field(default_factory=dict)
    unexpected: int = 0  # answers without the expected text, or that failed
    elapsed: float = 0.0

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(fraction * len(ordered)))
        return ordered[rank - 1] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    @property
    def mean(self) -> float:
        """Milliseconds."""
        return sum(self.latencies) / len(self.latencies) * 1000 if self.latencies else math.nan

    @property
    def rate(self) -> float:
        """Answers per second over the round."""
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else math.nan

    @property
    def max(self) -> float:
        return max(self.latencies) * 1000 if self.latencies else math.nan

    def problems(self) -> str:
        bad = {code: n for code, n in self.statuses.items() if code != "200"}
        parts = [f"{n}× HTTP {code}" for code, n in sorted(bad.items())]
        if self.unexpected:
            parts.append(f"{self.unexpected} unexpected answers")
        return ", ".join(parts)


def command_body(fake: FakeSlack, text: str, *, user: str, channel: str, channel_name: str) -> str:
    """A slash command as Slack sends it (the same fields as SlackDriver.command)."""
    form = {
        "token": "fake-verification-token",
        "team_id": fake.team_id,
        "team_domain": "fake-workspace",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user.lower(),
        "command": "/incident",
        "text": text,
        "api_app_id": fake.app_id,
        "is_enterprise_install": "false",
        "response_url": fake.new_response_url(user, channel),
        "trigger_id": fake.issue_trigger_id(user),
    }
    return urlencode(form)


def reaction_body(fake: FakeSlack, *, user: str, channel: str, ts: str, item_user: str, reaction: str) -> str:
    """A reaction_added event_callback with a unique event_id (as SlackDriver.event wraps it)."""
    now = fake.now()
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item_user": item_user,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": f"{now:.6f}",
    }
    envelope = {
        "token": "fake-verification-token",
        "team_id": fake.team_id,
        "context_team_id": fake.team_id,
        "context_enterprise_id": None,
        "api_app_id": fake.app_id,
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev{secrets.token_hex(8).upper()}",
        "event_time": int(now),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": fake.team_id,
                "user_id": fake.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(16)}",
    }
    return json.dumps(envelope)


def run_load(
    port: int,
    secret: str,
    bodies: list[str],
    content_type: str,
    *,
    workdir: Path,
    threads: int = 10,
    expect: str = "",
    interval: float = 0.0,
    duration: float = 0.0,
) -> LoadResult:
    """Send `bodies` to 127.0.0.1:`port`/slack/events from `threads` threads (each `interval` s apart when
    given, stopping after `duration` s when given) and return the timings."""
    spec = workdir / f"load-{secrets.token_hex(4)}.json"
    out = spec.with_suffix(".out.json")
    spec.write_text(
        json.dumps(
            {
                "port": port,
                "secret": secret,
                "bodies": bodies,
                "content_type": content_type,
                "threads": threads,
                "expect": expect,
                "interval": interval,
                "duration": duration,
            }
        )
    )
    subprocess.run([sys.executable, "-m", "bench.load", str(spec), str(out)], cwd=REPO_ROOT, check=True, timeout=900)
    data = json.loads(out.read_text())
    spec.unlink()
    out.unlink()
    return LoadResult(data["latencies"], data["sent_at"], data["statuses"], data["unexpected"], data["elapsed"])


def _send(port: int, body: bytes, headers: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/slack/events", body=body, headers=headers)
        reply = connection.getresponse()
        text = reply.read().decode("utf-8", errors="replace")
        return time.perf_counter() - started, reply.status, text
    finally:
        connection.close()


def _serve_spec(spec: dict[str, Any]) -> dict[str, Any]:
    verifier = SignatureVerifier(spec["secret"])
    bodies: list[str] = spec["bodies"]
    threads: int = spec["threads"]
    interval: float = spec["interval"]
    duration: float = spec["duration"]
    lock = threading.Lock()
    latencies: list[float] = []
    sent_at: list[float] = []
    statuses: dict[str, int] = {}
    unexpected = [0]
    next_index = [0]
    started = time.perf_counter()

    def client(number: int) -> None:
        sent = 0
        while True:
            if duration and time.perf_counter() - started >= duration:
                return
            with lock:
                index = next_index[0]
                next_index[0] += 1
            if index >= len(bodies):
                return
            if interval:
                due = started + (number / threads + sent) * interval
                time.sleep(max(0.0, due - time.perf_counter()))
            body = bodies[index].encode()
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": spec["content_type"],
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body) or "",
                "Connection": "close",
            }
            wall = time.time()
            try:
                took, status, text = _send(spec["port"], body, headers)
            except OSError:
                with lock:
                    statuses["error"] = statuses.get("error", 0) + 1
                    unexpected[0] += 1
                continue
            sent += 1
            with lock:
                latencies.append(took)
                sent_at.append(wall)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if spec["expect"] and spec["expect"] not in text:
                    unexpected[0] += 1

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "latencies": latencies,
        "sent_at": sent_at,
        "statuses": statuses,
        "unexpected": unexpected[0],
        "elapsed": time.perf_counter() - started,
    }


def main() -> None:
    spec_path, out_path = Path(sys.argv[1]), Path(sys.argv[2])
    out_path.write_text(json.dumps(_serve_spec(json.loads(spec_path.read_text()))))


if __name__ == "__main__":
    main()
