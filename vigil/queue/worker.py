"""Workers: threads that claim jobs in batches, run their handlers, and record the outcome.

A handler takes a batch of jobs of one kind and returns, for each job in order, None when it
is done or the exception that made it fail (the queue then retries it with backoff). Handlers
must be idempotent: a job is delivered at least once, so it may run again after a crash.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from vigil.metrics import JOB_SECONDS
from vigil.queue.jobs import Job, JobQueue, JobState

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[Job]], list[BaseException | None]]
# Called with a job that failed its last attempt and the error it failed with, so whatever
# the job was working on reaches a final state instead of waiting for a job that is dead.
DeadHandler = Callable[[Job, str], None]


def _always() -> bool:
    return True


@dataclass(frozen=True)
class Handler:
    run: BatchHandler
    # Jobs of this kind are claimed only while it is ready (models loaded, for example), so
    # a worker that is still starting doesn't burn their attempts.
    ready: Callable[[], bool] = field(default=_always)
    dead: DeadHandler | None = None


def one_at_a_time(handle: Callable[[Job], None]) -> BatchHandler:
    """A batch handler from a handler of single jobs."""

    def run(jobs: Sequence[Job]) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = []
        for job in jobs:
            try:
                handle(job)
                outcomes.append(None)
            except Exception as failure:
                outcomes.append(failure)
        return outcomes

    return run


def worker_name(index: int = 0) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class LeaseKeeper:
    """Renews the leases of every job this process is working on, in one thread."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self._held: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vigil-leases", daemon=True)

    def hold(self, worker: str, job_ids: Sequence[int]) -> None:
        with self._lock:
            self._held.setdefault(worker, set()).update(job_ids)

    def drop(self, worker: str, job_ids: Sequence[int]) -> None:
        with self._lock:
            self._held.get(worker, set()).difference_update(job_ids)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.queue.lease_seconds / 3):
            with self._lock:
                held = {worker: sorted(ids) for worker, ids in self._held.items() if ids}
            for worker, ids in held.items():
                try:
                    self.queue.renew(ids, worker)
                except Exception:  # the database may be restarting; the next round retries
                    log.warning("renewing leases failed", exc_info=True)


class QueueWorker:
    """Claims up to ``batch_size`` jobs at a time and runs them through their handlers."""

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        keeper: LeaseKeeper,
        *,
        name: str,
        batch_size: int = 8,
        poll_seconds: float = 0.5,
        batch_wait_seconds: float = 0.0,
    ) -> None:
        self.queue = queue
        self.handlers = handlers
        self.keeper = keeper
        self.name = name
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.batch_wait_seconds = batch_wait_seconds

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; the batch in hand is finished first."""
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # keep going: the database may be restarting
                log.exception("worker %s: claiming or recording jobs failed", self.name)
                worked = 0
            if not worked:
                stop.wait(self.poll_seconds)

    def run_once(self) -> int:
        kinds = [kind for kind, handler in self.handlers.items() if handler.ready()]
        if not kinds:
            return 0
        jobs = self.queue.claim(self.name, self.batch_size, kinds, on_lost=self._bury)
        if jobs and len(jobs) < self.batch_size and self.batch_wait_seconds > 0:
            # A short wait lets concurrent uploads join this batch: one detector run for all.
            time.sleep(self.batch_wait_seconds)
            more = self.batch_size - len(jobs)
            jobs += self.queue.claim(self.name, more, kinds, on_lost=self._bury)
        if jobs:
            self.process(jobs)
        return len(jobs)

    def process(self, jobs: Sequence[Job]) -> None:
        """Run claimed jobs and record each outcome."""
        ids = [job.id for job in jobs]
        self.keeper.hold(self.name, ids)
        try:
            ordered = sorted(jobs, key=lambda job: job.kind)
            for kind, group in groupby(ordered, key=lambda job: job.kind):
                self._run_kind(kind, list(group))
        finally:
            self.keeper.drop(self.name, ids)

    def _run_kind(self, kind: str, jobs: list[Job]) -> None:
        started = time.perf_counter()
        try:
            outcomes = self.handlers[kind].run(jobs)
        except Exception as failure:  # the whole batch failed: each job retries
            log.exception("handler for %s failed", kind)
            outcomes = [failure] * len(jobs)
        elapsed = time.perf_counter() - started
        done = [job.id for job, outcome in zip(jobs, outcomes, strict=True) if outcome is None]
        self.queue.complete_all(done, self.name)  # one transaction for the batch
        for _ in done:
            JOB_SECONDS.labels(kind=kind, outcome="done").observe(elapsed)
        for job, outcome in zip(jobs, outcomes, strict=True):
            if outcome is not None:
                self._record_failure(job, outcome, elapsed)

    def _record_failure(self, job: Job, outcome: BaseException, elapsed: float) -> None:
        message = f"{type(outcome).__name__}: {outcome}"
        state = self.queue.fail(job.id, self.name, message)
        label = "dead" if state is JobState.DEAD else "retry"
        JOB_SECONDS.labels(kind=job.kind, outcome=label).observe(elapsed)
        log.warning("job %d (%s) attempt %d failed: %s", job.id, job.kind, job.attempts, message)
        if state is JobState.DEAD:
            self._bury(job, message)

    def _bury(self, job: Job, message: str) -> None:
        dead = self.handlers[job.kind].dead
        if dead is None:
            return
        try:
            dead(job, message)
        except Exception:  # the job stays dead either way; a requeue tries it all again
            log.exception("job %d (%s): recording its end failed", job.id, job.kind)


class WorkerPool:
    """``concurrency`` queue workers in threads of this process, sharing one lease keeper."""

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 1,
        batch_size: int = 8,
        poll_seconds: float = 0.5,
        batch_wait_seconds: float = 0.0,
    ) -> None:
        self.keeper = LeaseKeeper(queue)
        self.stopping = threading.Event()
        self.workers = [
            QueueWorker(
                queue,
                handlers,
                self.keeper,
                name=worker_name(index),
                batch_size=batch_size,
                poll_seconds=poll_seconds,
                batch_wait_seconds=batch_wait_seconds,
            )
            for index in range(concurrency)
        ]
        self._threads = [
            threading.Thread(target=worker.run, args=(self.stopping,), name=worker.name)
            for worker in self.workers
        ]

    def start(self) -> None:
        self.keeper.start()
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop claiming and let each worker finish the batch in hand."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.keeper.stop()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()
