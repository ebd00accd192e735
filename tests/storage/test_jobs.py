"""SqlJobStore: leases, retries and exactly-once claiming across threads and processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, select

from bot.core.jobs import JOBS, Next, SendActionItems, Tell
from bot.core.models import Reply
from bot.storage import SqlJobStore, SqlUnitOfWork, create_engine_for, migrate
from bot.storage.migrate import alembic_config
from bot.storage.tables import jobs
from tests.storage.concurrency import run_together
from tests.support.clock import FixedClock

REPO_ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 3, 9, 12, 0, tzinfo=UTC)
CLOCK = FixedClock(NOW)


def tell(label: str) -> Tell:
    return Tell(text=label, asked_by=Reply(user_id="U1", room_id="C1"))


def _enqueue(engine: Engine, count: int = 1, *, run_at: datetime | None = NOW, label: str = "k") -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        for n in range(count):
            uow.jobs.enqueue(tell(f"{label} {n} héllo ✅"), run_at=run_at)
        uow.commit()


def _texts(engine: Engine) -> list[str]:
    """What each stored Tell job says, in the order they were stored."""
    with engine.connect() as conn:
        stored = [
            JOBS.validate_json(payload)
            for payload in conn.execute(select(jobs.c.payload).order_by(jobs.c.id)).scalars()
        ]
    return [job.text for job in stored if isinstance(job, Tell)]


def _row(engine: Engine, job_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().one())


def _all_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(jobs.c.id)).scalars())


def test_claim_leases_the_oldest_due_job(engine: Engine) -> None:
    store = SqlJobStore(engine)
    assert store.claim("w1", NOW, 30) is None
    _enqueue(engine, run_at=NOW + timedelta(minutes=1), label="newer")
    _enqueue(engine, run_at=NOW - timedelta(minutes=1), label="older")
    _enqueue(engine, run_at=NOW + timedelta(hours=1), label="future")
    assert store.pending() == 3

    job = store.claim("w1", NOW + timedelta(minutes=2), 30)
    assert job is not None
    assert (job.kind, job.job, job.attempts) == ("tell", tell("older 0 héllo ✅"), 1)
    row = _row(engine, job.id)
    assert row["locked_by"] == "w1"
    assert row["locked_until"] == NOW + timedelta(minutes=2, seconds=30)

    second = store.claim("w2", NOW + timedelta(minutes=2), 30)
    assert second is not None and second.job == tell("newer 0 héllo ✅")
    assert store.claim("w3", NOW + timedelta(minutes=2), 30) is None  # "future" is not due
    assert store.pending() == 3  # leased jobs are still pending


def test_an_expired_lease_lets_another_worker_reclaim(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine)
    first = store.claim("w1", NOW, 30)
    assert first is not None and first.attempts == 1
    assert store.claim("w2", NOW + timedelta(seconds=29), 30) is None
    again = store.claim("w2", NOW + timedelta(seconds=30), 30)
    assert again is not None and again.id == first.id and again.attempts == 2
    assert _row(engine, first.id)["locked_by"] == "w2"


def test_complete_finishes_the_job(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine)
    job = store.claim("w1", NOW, 30)
    assert job is not None
    store.complete(job.id, NOW + timedelta(seconds=1))
    assert store.pending() == 0
    assert store.claim("w1", NOW + timedelta(days=1), 30) is None
    row = _row(engine, job.id)
    assert row["done_at"] == NOW + timedelta(seconds=1)
    assert row["locked_by"] is None and row["locked_until"] is None


def test_retry_releases_the_job_until_its_new_time(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine)
    job = store.claim("w1", NOW, 300)
    assert job is not None
    store.retry(job.id, "Slack said ratelimited", NOW + timedelta(minutes=1))
    row = _row(engine, job.id)
    assert row["last_error"] == "Slack said ratelimited" and row["locked_by"] is None
    assert store.claim("w1", NOW + timedelta(seconds=59), 300) is None
    again = store.claim("w2", NOW + timedelta(minutes=1), 300)
    assert again is not None and again.id == job.id and again.attempts == 2
    assert store.pending() == 1


def test_fail_is_terminal(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine)
    job = store.claim("w1", NOW, 30)
    assert job is not None
    store.fail(job.id, "x" * 20_000, NOW)
    assert store.pending() == 0
    assert store.claim("w1", NOW + timedelta(days=1), 30) is None
    row = _row(engine, job.id)
    assert row["failed_at"] == NOW and len(str(row["last_error"])) < 20_000


def test_purge_finished_removes_only_old_finished_jobs(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine, 3)
    done, failed, _open = _all_ids(engine)
    store.complete(done, NOW)
    store.fail(failed, "no", NOW + timedelta(days=2))
    assert store.purge_finished(NOW + timedelta(days=1)) == 1
    assert _all_ids(engine) == [failed, _open]


def test_what_follows_a_job_is_stored_with_its_completion_and_keys_make_it_once(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine, 2)
    first = store.claim("w1", NOW, 30)
    assert first is not None
    then = [Next(tell("dm bob"), key="dm:1:UBOB"), Next(tell("later"), delay_seconds=60)]
    store.complete(first.id, NOW, then=then)
    second = store.claim("w1", NOW, 30)
    assert second is not None
    store.retry(
        second.id, "down", NOW + timedelta(minutes=5), now=NOW, then=[Next(tell("dm bob again"), key="dm:1:UBOB")]
    )
    assert _texts(engine) == ["k 0 héllo ✅", "k 1 héllo ✅", "dm bob", "later"]
    due = store.claim("w2", NOW, 30)
    assert due is not None and due.job == tell("dm bob")  # stored to run now; "later" waits a minute
    assert store.claim("w2", NOW, 30) is None


def test_a_heartbeat_keeps_the_lease_and_a_release_gives_it_up(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine)
    job = store.claim("w1", NOW, 6)
    assert job is not None
    store.renew([job.id], "w1", NOW + timedelta(seconds=20))
    store.renew([job.id], "someone-else", NOW + timedelta(hours=1))  # only the holder renews
    assert store.claim("w2", NOW + timedelta(seconds=19), 6) is None
    assert _row(engine, job.id)["locked_until"] == NOW + timedelta(seconds=20)
    store.release([job.id], "w1")
    again = store.claim("w2", NOW, 6)
    assert again is not None and again.id == job.id and again.attempts == 2


def test_a_job_put_back_for_a_rate_limit_keeps_its_attempts_and_comes_back_booked(engine: Engine) -> None:
    store = SqlJobStore(engine)
    _enqueue(engine)
    job = store.claim("w1", NOW, 6)
    assert job is not None and (job.attempts, job.paced_for) == (1, None)
    store.defer(job.id, NOW + timedelta(seconds=3), booked_for="conversations.create")
    assert store.claim("w1", NOW + timedelta(seconds=2), 6) is None
    again = store.claim("w1", NOW + timedelta(seconds=3), 6)
    assert again is not None and (again.attempts, again.paced_for) == (1, "conversations.create")


def test_an_incidents_job_runs_before_a_mornings_reminders_that_were_due_first(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        for n in range(3):
            uow.jobs.enqueue(SendActionItems(owner_id=f"U{n}", reason="reminder", items=()), run_at=NOW)
        uow.commit()
    _enqueue(engine, run_at=NOW + timedelta(seconds=1))
    store = SqlJobStore(engine)
    first = store.claim("w1", NOW + timedelta(seconds=2), 6)
    assert first is not None and isinstance(first.job, Tell)
    second = store.claim("w1", NOW + timedelta(seconds=2), 6)
    assert second is not None and isinstance(second.job, SendActionItems) and second.job.owner_id == "U0"


def test_while_the_fan_out_lane_is_full_only_other_jobs_and_booked_fan_out_are_claimed(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        for n in range(2):
            uow.jobs.enqueue(SendActionItems(owner_id=f"U{n}", reason="reminder", items=()), run_at=NOW)
        uow.commit()
    store = SqlJobStore(engine)
    assert store.claim("w1", NOW, 6, fan_out=False) is None  # no turn free: the reminders wait in the queue
    booked = store.claim("w1", NOW, 6)
    assert booked is not None and isinstance(booked.job, SendActionItems)
    store.defer(booked.id, NOW + timedelta(seconds=1), booked_for="chat.postMessage:U0:fan-out")
    _enqueue(engine)
    other = store.claim("w1", NOW + timedelta(seconds=1), 6, fan_out=False)
    assert other is not None and isinstance(other.job, Tell)
    again = store.claim("w1", NOW + timedelta(seconds=1), 6, fan_out=False)  # it has its turn already
    assert again is not None and again.id == booked.id and again.paced_for == "chat.postMessage:U0:fan-out"
    assert store.claim("w1", NOW + timedelta(seconds=1), 6, fan_out=False) is None
    last = store.claim("w1", NOW + timedelta(seconds=1), 6)
    assert last is not None and isinstance(last.job, SendActionItems) and last.job.owner_id == "U1"


def test_a_booked_fan_out_job_that_fails_waits_for_a_turn_again(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        uow.jobs.enqueue(SendActionItems(owner_id="U0", reason="reminder", items=()), run_at=NOW)
        uow.commit()
    store = SqlJobStore(engine)
    booked = store.claim("w1", NOW, 6)
    assert booked is not None
    store.defer(booked.id, NOW + timedelta(seconds=1), booked_for="chat.postMessage:U0:fan-out")
    failed = store.claim("w1", NOW + timedelta(seconds=1), 6, fan_out=False)
    assert failed is not None and failed.id == booked.id
    # Slack answered 500: the turn it had booked is spent, so the retry waits for a free one.
    store.retry(failed.id, "internal_error", NOW + timedelta(seconds=2), holder="w1")
    assert store.claim("w1", NOW + timedelta(seconds=2), 6, fan_out=False) is None
    again = store.claim("w1", NOW + timedelta(seconds=2), 6)
    assert again is not None and again.id == booked.id and again.paced_for is None


def test_incident_work_queued_after_a_morning_of_reminders_is_taken_first(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        for n in range(300):
            uow.jobs.enqueue(SendActionItems(owner_id=f"U{n}", reason="reminder", items=()), run_at=NOW)
        uow.commit()
    _enqueue(engine, run_at=NOW + timedelta(seconds=5))
    store = SqlJobStore(engine)
    first = store.claim("w1", NOW + timedelta(seconds=5), 6)
    assert first is not None and isinstance(first.job, Tell)
    reminders = [store.claim("w1", NOW + timedelta(seconds=5), 6) for _ in range(300)]
    owners = [r.job.owner_id for r in reminders if r is not None and isinstance(r.job, SendActionItems)]
    assert owners == [f"U{n}" for n in range(300)]  # then the reminders, oldest first, each once
    assert store.claim("w1", NOW + timedelta(seconds=5), 6) is None


def test_jobs_queued_before_the_lanes_existed_are_taken_in_their_order_after_the_upgrade(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        uow.jobs.enqueue(SendActionItems(owner_id="U0", reason="reminder", items=()), run_at=NOW)
        uow.jobs.enqueue(tell("already done"), run_at=NOW)
        uow.jobs.enqueue(tell("incident work"), run_at=NOW)
        uow.commit()
    store = SqlJobStore(engine)
    done = store.claim("w1", NOW, 6)
    assert done is not None and isinstance(done.job, Tell) and done.job.text == "already done"
    assert store.complete(done.id, NOW, holder="w1")
    config = alembic_config(engine.url)
    with engine.begin() as conn:  # back to the schema before the lanes, the queue kept
        config.attributes["connection"] = conn
        command.downgrade(config, "0006")
    migrate(engine)
    first = store.claim("w1", NOW, 6, fan_out=False)
    assert first is not None and isinstance(first.job, Tell) and first.job.text == "incident work"
    assert store.claim("w1", NOW, 6, fan_out=False) is None  # the reminder waits for a turn of its lane
    second = store.claim("w1", NOW, 6)
    assert second is not None and isinstance(second.job, SendActionItems)
    assert store.claim("w1", NOW, 6) is None  # the finished job stays finished


def test_a_job_this_version_cannot_read_is_handed_over_as_unreadable(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            jobs.insert().values(kind="open_room", payload='{"incident_id": 1}', run_at=NOW, attempts=0, created_at=NOW)
        )
    job = SqlJobStore(engine).claim("w1", NOW, 30)
    assert job is not None and job.job is None and job.kind == "open_room" and job.problem


def test_threads_on_two_engines_claim_each_job_once(database_url: str) -> None:
    engines = [create_engine_for(database_url) for _ in range(2)]
    try:
        migrate(engines[0])
        _enqueue(engines[0], 120)

        def work(worker: int) -> list[int]:
            store = SqlJobStore(engines[worker % 2])
            claimed = []
            while (job := store.claim(f"w{worker}", NOW, 300)) is not None:
                claimed.append(job.id)
                store.complete(job.id, NOW)
            return claimed

        claimed = [job_id for ids in run_together(8, work) for job_id in ids]
        assert sorted(claimed) == _all_ids(engines[0])
        assert len(claimed) == len(set(claimed)) == 120
        assert SqlJobStore(engines[0]).pending() == 0
    finally:
        for eng in engines:
            eng.dispose()


# Each process migrates (all at once, on a fresh database), waits for "go", then claims with threads.
_WORKER_SCRIPT = """
import json, sys, threading
from datetime import datetime, UTC
from bot.storage import SqlJobStore, create_engine_for, migrate

url, name, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
migrate(url)
engine = create_engine_for(url)
store = SqlJobStore(engine)
print("ready", flush=True)
sys.stdin.readline()
claimed = []
def work(n):
    while (job := store.claim(f"{name}-{n}", now, 300)) is not None:
        claimed.append(job.id)
        store.complete(job.id, now)
threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(claimed), flush=True)
"""


def test_processes_migrate_together_and_claim_each_job_once(database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER_SCRIPT, database_url, f"p{n}", NOW.isoformat()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line

        engine = create_engine_for(database_url)
        try:
            _enqueue(engine, 150)
            expected = _all_ids(engine)
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            claimed: list[int] = []
            for proc in procs:
                out, err = proc.communicate(timeout=60)
                assert proc.returncode == 0, err
                claimed.extend(json.loads(out.strip().splitlines()[-1]))
            assert sorted(claimed) == expected
            assert len(claimed) == len(set(claimed)) == 150
            assert SqlJobStore(engine).pending() == 0
        finally:
            engine.dispose()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
