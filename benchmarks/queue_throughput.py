"""Job queue throughput: jobs per second on SQLite and PostgreSQL with 1, 2 and 4 workers.

Each worker is its own process running vigil's QueueWorker (claim in batches, record each
outcome) with a handler that does no work, so the figures are the queue's own cost: claims,
completions, lease bookkeeping. PostgreSQL is a throw-away cluster started for the run
(Debian's postgresql package) unless --postgres-url names one. Ratios are against one worker
on SQLite in the same run.

Run: .venv/bin/python benchmarks/queue_throughput.py [--jobs 3000] [--batch 8]
"""
# ruff: noqa: E402  (the import path is fixed before the imports)

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `queue`: take its folder off the import path
# before anything imports `queue`, and put the repository root on it for tests.servers.
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse
import multiprocessing
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from multiprocessing.synchronize import Barrier

from tests.servers import start_postgres
from vigil.queue.jobs import Job, JobQueue
from vigil.queue.worker import Handler, LeaseKeeper, QueueWorker
from vigil.storage.db import Database, migrate

KIND = "bench"


def nothing(jobs: Sequence[Job]) -> list[BaseException | None]:
    return [None] * len(jobs)


def work(url: str, name: str, batch: int, start: Barrier) -> None:
    """One worker process: wait for the start, drain the queue, then exit."""
    db = Database(url)
    queue = JobQueue(db)
    worker = QueueWorker(
        queue, {KIND: Handler(nothing)}, LeaseKeeper(queue), name=name, batch_size=batch
    )
    start.wait()
    idle = 0
    while idle < 3:  # a few empty claims in a row: the queue is drained
        idle = 0 if worker.run_once() else idle + 1
    db.dispose()


def fill(url: str, jobs: int) -> None:
    db = Database(url)
    queue = JobQueue(db)
    with db.session() as session:
        for n in range(jobs):
            queue.enqueue(session, KIND, {"n": n})
    db.dispose()


def run(url: str, workers: int, jobs: int, batch: int) -> float:
    """Jobs per second for ``workers`` processes draining ``jobs`` jobs."""
    fill(url, jobs)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers + 1)  # time the draining, not the process start-up
    processes = [
        context.Process(target=work, args=(url, f"bench-{n}", batch, start)) for n in range(workers)
    ]
    for process in processes:
        process.start()
    start.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    return jobs / (time.perf_counter() - started)


def fresh_sqlite(directory: Path) -> str:
    url = f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}"
    migrate(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres-url", default="", help="a server URL; default: start one")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="vigil-queue-bench-"))
    server = None if args.postgres_url else start_postgres()
    try:
        backends = {
            "sqlite": lambda: fresh_sqlite(directory),
            "postgresql": lambda: fresh_postgres(server, args.postgres_url),
        }
        results: dict[tuple[str, int], float] = {}
        for backend, fresh in backends.items():
            for workers in (1, 2, 4):
                rates = [run(fresh(), workers, args.jobs, args.batch) for _ in range(args.repeats)]
                results[backend, workers] = statistics.median(rates)
                rate = results[backend, workers]
                print(f"{backend:10} workers={workers} jobs_per_second={rate:8.0f}")
    finally:
        if server is not None:
            server.stop()
    baseline = results["sqlite", 1]
    for (backend, workers), rate in results.items():
        print(f"ratio {backend} workers={workers} vs sqlite workers=1: {rate / baseline:.2f}")


def fresh_postgres(server: object, given: str) -> str:
    if given:
        url = given
    else:
        assert server is not None
        url = server.create_database(f"bench_{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]
    migrate(url)
    return url


if __name__ == "__main__":
    main()
