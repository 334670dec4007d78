"""A worker that finds fewer jobs than its batch size waits briefly for more, so concurrent
uploads share one detector batch; with no wait it runs what it found at once."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from vigil.queue.jobs import Job, JobQueue
from vigil.queue.worker import Handler, LeaseKeeper, QueueWorker
from vigil.storage.db import Database


def add(db: Database, queue: JobQueue, n: int) -> None:
    with db.session() as session:
        queue.enqueue(session, "moderate", {"n": n})


def worker(queue: JobQueue, batches: list[int], wait: float) -> QueueWorker:
    def run(jobs: Sequence[Job]) -> list[BaseException | None]:
        batches.append(len(jobs))
        return [None] * len(jobs)

    handlers = {"moderate": Handler(run)}
    keeper = LeaseKeeper(queue)
    return QueueWorker(queue, handlers, keeper, name="w", batch_size=8, batch_wait_seconds=wait)


def test_jobs_arriving_during_the_wait_join_the_batch(db: Database, queue: JobQueue) -> None:
    batches: list[int] = []
    add(db, queue, 1)
    late = threading.Timer(0.1, add, args=(db, queue, 2))
    late.start()
    assert worker(queue, batches, wait=2.0).run_once() == 2
    late.join()
    assert batches == [2]


def test_without_a_wait_the_batch_runs_at_once(db: Database, queue: JobQueue) -> None:
    batches: list[int] = []
    add(db, queue, 1)
    assert worker(queue, batches, wait=0).run_once() == 1
    assert batches == [1]


def test_a_full_batch_does_not_wait(db: Database, queue: JobQueue) -> None:
    batches: list[int] = []
    for n in range(8):
        add(db, queue, n)
    assert worker(queue, batches, wait=60.0).run_once() == 8
    assert batches == [8]
