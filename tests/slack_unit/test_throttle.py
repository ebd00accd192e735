"""Pacing Slack calls to the published tiers, measured with an injected clock (no sleeping)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.slack.throttle import (
    FAN_OUT_BURST,
    FAN_OUT_MESSAGES_PER_MINUTE,
    METHOD_TIERS,
    WORKSPACE_MESSAGE_BURST,
    WORKSPACE_MESSAGES_PER_MINUTE,
    HostBuckets,
    MemoryBuckets,
    Throttle,
    host_buckets,
    private_folder,
)
from tests.paths import SLACK_REFERENCE

REFERENCE = SLACK_REFERENCE / "methods"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_burst_passes_then_calls_are_spaced_to_the_tier() -> None:
    fake = FakeTime()
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep)
    for _ in range(8):  # Tier 3: 50 a minute, about 8 at once
        throttle.wait("conversations.open")
    assert fake.slept == []
    throttle.wait("conversations.open")
    throttle.wait("conversations.open")
    assert fake.slept and all(abs(s - 1.2) < 0.3 for s in fake.slept[-1:])


def test_messages_are_paced_per_channel_and_by_the_workspace_limit() -> None:
    fake = FakeTime()
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep)
    for _ in range(7):
        throttle.wait("chat.postMessage", "CINCIDENT")
    assert sum(fake.slept) == pytest.approx(2.0, abs=0.01)  # 5 at once, then one a second
    fake.now += 3600
    fake.slept.clear()
    for channel in [f"D{i}" for i in range(100)]:  # a hundred DMs: a hundred channels, one workspace
        throttle.wait("chat.postMessage", channel)
    per_second = WORKSPACE_MESSAGES_PER_MINUTE / 60
    assert len(fake.slept) == 100 - WORKSPACE_MESSAGE_BURST  # a burst, then the workspace's pace
    assert all(s == pytest.approx(1 / per_second, abs=0.01) for s in fake.slept)


def test_a_reservation_books_the_moment_without_waiting() -> None:
    fake = FakeTime()
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep)
    delays = [throttle.reserve("chat.postMessage", "CINCIDENT") for _ in range(8)]
    assert fake.slept == []  # nobody slept: a job is put back for its moment instead
    assert delays == pytest.approx([0, 0, 0, 0, 0, 1, 2, 3], abs=0.01)  # each booked its own second


def test_unknown_methods_are_not_paced() -> None:
    fake = FakeTime()
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep)
    for _ in range(1000):
        throttle.wait("auth.test")
    assert fake.slept == []


def test_tiers_match_slacks_reference() -> None:
    for method, tier in METHOD_TIERS.items():
        assert json.loads((REFERENCE / f"{method}.json").read_text())["rate_limits"] == tier, method


def test_a_morning_of_reminders_never_makes_an_incident_post_wait() -> None:
    fake = FakeTime()
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep)
    booked = [throttle.reserve("chat.postMessage", f"U{n:05d}", fan_out=True) for n in range(2000)]
    assert booked[-1] > 600  # the DMs are spread over the next ten minutes and more …
    # … and the incident channel's next post goes out at once, as do the next few after it.
    assert [throttle.reserve("chat.postMessage", "CINCIDENT") for _ in range(5)] == [0, 0, 0, 0, 0]
    assert Throttle.key("chat.postMessage", "U1", fan_out=True) != Throttle.key("chat.postMessage", "U1")


@pytest.mark.parametrize("where", ["memory", "host file"])
def test_the_fan_out_lane_says_when_its_next_turn_is_free_without_taking_it(where: str, tmp_path: Path) -> None:
    fake = FakeTime()
    buckets = MemoryBuckets() if where == "memory" else HostBuckets(tmp_path / "pacing.json")
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep, buckets=buckets)
    assert throttle.fan_out_free_in() == 0  # nothing sent yet
    for n in range(FAN_OUT_BURST):
        assert throttle.reserve("chat.postMessage", f"U{n}", fan_out=True) == 0
    turn = 60 / FAN_OUT_MESSAGES_PER_MINUTE
    assert throttle.fan_out_free_in() == pytest.approx(turn)
    assert throttle.fan_out_free_in() == pytest.approx(turn)  # asking takes no turn
    assert throttle.reserve("chat.postMessage", "CINCIDENT") == 0  # an incident's post is not in that lane
    fake.now += turn
    assert throttle.fan_out_free_in() == 0
    assert throttle.reserve("chat.postMessage", "U-next", fan_out=True) == 0


def test_processes_of_one_host_pace_together_through_the_shared_file(tmp_path: Path) -> None:
    fake = FakeTime()
    path = tmp_path / "pacing.json"
    serve = Throttle(clock=fake.clock, sleep=fake.sleep, buckets=HostBuckets(path))
    cron = Throttle(clock=fake.clock, sleep=fake.sleep, buckets=HostBuckets(path))
    assert [serve.reserve("chat.postMessage", "CINCIDENT") for _ in range(3)] == [0, 0, 0]
    # the second process sees the first one's three posts: two more at once, then one a second
    assert [cron.reserve("chat.postMessage", "CINCIDENT") for _ in range(4)] == pytest.approx([0, 0, 1, 2])
    assert "xoxb" not in path.name and path.read_text().startswith("{")


def test_another_process_booking_the_tier_makes_this_one_wait(tmp_path: Path) -> None:
    buckets = HostBuckets.for_workspace(tmp_path, token="xoxb-secret", api_url="https://slack.com/api/")
    assert "secret" not in buckets.path.name
    script = (
        "import sys; from pathlib import Path; from bot.slack.throttle import HostBuckets, Throttle;"
        "t = Throttle(buckets=HostBuckets(Path(sys.argv[1])));"
        "[t.reserve('conversations.create') for _ in range(12)]"
    )
    subprocess.run([sys.executable, "-c", script, str(buckets.path)], check=True, timeout=60)
    # Tier 2 is 20 a minute: twelve calls booked by the other process leave this one the next
    # half-minute's turns, less the seconds that passed since
    assert Throttle(buckets=buckets).reserve("conversations.create") > 10
    assert Throttle().reserve("conversations.create") == 0  # a process on its own buckets does not wait


def test_a_damaged_file_counts_as_full_buckets(tmp_path: Path) -> None:
    fake = FakeTime()
    path = tmp_path / "pacing.json"
    path.write_text('{"chat.postMessage:C1": [1, 2')  # a crash mid-write
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep, buckets=HostBuckets(path))
    assert throttle.reserve("chat.postMessage", "C1") == 0
    assert "chat.postMessage:C1" in json.loads(path.read_text())


def test_buckets_that_refilled_are_dropped_from_the_file(tmp_path: Path) -> None:
    fake = FakeTime()
    path = tmp_path / "pacing.json"
    throttle = Throttle(clock=fake.clock, sleep=fake.sleep, buckets=HostBuckets(path))
    for number in range(50):
        throttle.reserve("chat.postMessage", f"U{number}", fan_out=True)
    fake.now += 3600
    throttle.reserve("users.info")
    assert set(json.loads(path.read_text())) == {"users.info"}


def test_a_folder_others_may_write_is_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert private_folder(str(shared)) is None
    assert isinstance(host_buckets(None, token="t", api_url="u"), MemoryBuckets)
    assert "writable by other users" in caplog.text
    own = private_folder(str(tmp_path / "own"))
    assert own is not None and isinstance(host_buckets(own, token="t", api_url="u"), HostBuckets)
    assert (tmp_path / "own").stat().st_mode & 0o777 == 0o700
