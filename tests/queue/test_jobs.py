"""The job queue's contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from vigil.errors import InvalidTransition, JobNotFound
from vigil.queue.jobs import JobQueue, JobState
from vigil.storage.db import Database

from .conftest import ManualClock


def add(db: Database, queue: JobQueue, count: int = 1, kind: str = "moderate") -> list[int]:
    with db.session() as session:
        return [queue.enqueue(session, kind, {"n": n}) for n in range(count)]


def test_enqueued_jobs_are_claimed_once_in_order(db: Database, queue: JobQueue) -> None:
    ids = add(db, queue, 5)
    first = queue.claim("w1", limit=3)
    second = queue.claim("w2", limit=3)
    assert [job.id for job in first] == ids[:3]
    assert [job.id for job in second] == ids[3:]
    assert all(job.attempts == 1 for job in first + second)
    assert queue.claim("w3", limit=3) == []


def test_a_job_rolled_back_with_its_transaction_never_exists(db: Database, queue: JobQueue) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        queue.enqueue(session, "moderate", {})
        raise RuntimeError("the state change failed")
    assert queue.claim("w1", limit=10) == []


def test_completed_jobs_are_not_claimed_again(
    db: Database, queue: JobQueue, clock: ManualClock
) -> None:
    (job_id,) = add(db, queue)
    (job,) = queue.claim("w1", limit=1)
    assert queue.complete(job.id, "w1")
    clock.advance(3600)
    assert queue.claim("w2", limit=1) == []
    assert queue.get(job_id)["state"] == JobState.DONE


def test_an_expired_lease_returns_the_job_to_the_queue(
    db: Database, queue: JobQueue, clock: ManualClock
) -> None:
    add(db, queue)
    (job,) = queue.claim("dead-worker", limit=1)
    clock.advance(29)
    assert queue.claim("w2", limit=1) == []
    clock.advance(2)
    (again,) = queue.claim("w2", limit=1)
    assert again.id == job.id and again.attempts == 2
    # The first worker lost its lease: its late completion changes nothing.
    assert not queue.complete(job.id, "dead-worker")
    assert queue.get(job.id)["worker"] == "w2"


def test_renewing_keeps_a_busy_workers_lease(
    db: Database, queue: JobQueue, clock: ManualClock
) -> None:
    add(db, queue)
    (job,) = queue.claim("w1", limit=1)
    for _ in range(4):
        clock.advance(20)
        assert queue.renew([job.id], "w1") == 1
    assert queue.claim("w2", limit=1) == []


def test_failures_back_off_exponentially_then_the_job_is_dead(
    db: Database, queue: JobQueue, clock: ManualClock
) -> None:
    (job_id,) = add(db, queue)
    delays = []
    for attempt in (1, 2):
        (job,) = queue.claim("w1", limit=1)
        assert job.attempts == attempt
        assert queue.fail(job.id, "w1", f"boom {attempt}") is JobState.QUEUED
        available = datetime.fromisoformat(queue.get(job_id)["available_at"]).timestamp()
        delays.append(available - clock.now)
        assert queue.claim("w1", limit=1) == []  # not before its backoff
        clock.advance(delays[-1] + 1e-6)  # the view's time is rounded to the microsecond
    # 10 s then 20 s steps, each between half and the whole step.
    assert 5 <= delays[0] <= 10 and 10 <= delays[1] <= 20
    (job,) = queue.claim("w1", limit=1)
    assert queue.fail(job.id, "w1", "boom 3") is JobState.DEAD
    clock.advance(10_000)
    assert queue.claim("w1", limit=1) == []
    dead = queue.get(job_id)
    assert dead["state"] == JobState.DEAD and dead["last_error"] == "boom 3"


def test_a_job_that_keeps_killing_its_worker_goes_dead(
    db: Database, queue: JobQueue, clock: ManualClock
) -> None:
    (job_id,) = add(db, queue)
    for _ in range(3):
        assert len(queue.claim("doomed", limit=1)) == 1
        clock.advance(31)
    assert queue.claim("w", limit=1) == []
    assert queue.get(job_id)["state"] == JobState.DEAD
    assert "worker lost" in queue.get(job_id)["last_error"]


def test_dead_jobs_requeue_with_fresh_attempts(
    db: Database, queue: JobQueue, clock: ManualClock
) -> None:
    ids = add(db, queue, 2)
    for _ in range(3):
        for job in queue.claim("w1", limit=2):
            queue.fail(job.id, "w1", "boom")
        clock.advance(100)
    assert {job["id"] for job in queue.list_jobs(state="dead")} == set(ids)
    assert queue.requeue(ids[0])["state"] == JobState.QUEUED
    with pytest.raises(InvalidTransition):
        queue.requeue(ids[0])
    assert queue.requeue_dead() == 1
    claimed = queue.claim("w1", limit=5)
    assert {job.id for job in claimed} == set(ids)
    assert all(job.attempts == 1 for job in claimed)
    with pytest.raises(JobNotFound):
        queue.requeue(999_999)


def test_released_jobs_are_not_counted_as_attempts(db: Database, queue: JobQueue) -> None:
    add(db, queue, 2)
    jobs = queue.claim("stopping", limit=2)
    assert queue.release([job.id for job in jobs], "stopping") == 2
    again = queue.claim("w2", limit=2)
    assert [job.attempts for job in again] == [1, 1]


def test_claiming_one_particular_job(db: Database, queue: JobQueue) -> None:
    first, second = add(db, queue, 2)
    job = queue.claim_job(second, "uploader")
    assert job is not None and job.id == second
    assert queue.claim_job(second, "other") is None
    assert [job.id for job in queue.claim("w", limit=5)] == [first]


def test_claims_can_be_limited_to_kinds(db: Database, queue: JobQueue) -> None:
    add(db, queue, 1, kind="moderate")
    (hook,) = add(db, queue, 1, kind="webhook")
    assert [job.id for job in queue.claim("w", limit=5, kinds=["webhook"])] == [hook]


def test_stats_count_jobs_and_the_oldest_waiting(
    db: Database, queue: JobQueue, clock: ManualClock
) -> None:
    add(db, queue, 3)
    clock.advance(12)
    add(db, queue, 1, kind="webhook")
    queue.claim("w", limit=1)
    stats = queue.stats()
    assert stats["counts"]["queued"] == {"moderate": 2, "webhook": 1}
    assert stats["counts"]["running"] == {"moderate": 1}
    assert stats["oldest_queued_age_seconds"] == pytest.approx(12)


def test_concurrent_workers_never_share_a_job(db: Database, queue: JobQueue) -> None:
    ids = add(db, queue, 200)
    taken: dict[str, list[int]] = {}

    def drain(name: str) -> None:
        mine = taken.setdefault(name, [])
        while jobs := queue.claim(name, limit=7):
            mine.extend(job.id for job in jobs)
            for job in jobs:
                queue.complete(job.id, name)

    threads = [threading.Thread(target=drain, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [job_id for mine in taken.values() for job_id in mine]
    assert sorted(every) == ids  # each job exactly once
