"""Driving a backfill: keys into batches, batches through workers, lines to a sink."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

Line = dict[str, Any]
# Called after each batch with (objects done, objects in all).
OnProgress = Callable[[int, int], None]


class BatchWorker(Protocol):
    def run(self, keys: list[str]) -> list[Line]: ...

    def close(self) -> None: ...


class WorkerPlan(Protocol):
    """What starts a worker in a process: ``ScanPlan`` or ``RescanPlan``."""

    def start(self) -> BatchWorker: ...


class Executor(Protocol):
    def map(self, batches: Iterable[list[str]]) -> Iterator[tuple[list[str], list[Line]]]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Every batch in this process, through one worker (detectors loaded once)."""

    def __init__(self, plan: WorkerPlan) -> None:
        self.worker = plan.start()

    def map(self, batches: Iterable[list[str]]) -> Iterator[tuple[list[str], list[Line]]]:
        return ((batch, self.worker.run(batch)) for batch in batches)

    def close(self) -> None:
        self.worker.close()


def batches_of(keys: list[str], size: int) -> Iterator[list[str]]:
    return (keys[start : start + size] for start in range(0, len(keys), size))


def run_backfill(
    executor: Executor,
    keys: list[str],
    batch_size: int,
    sink: Callable[[Line], None],
    on_progress: OnProgress | None = None,
) -> int:
    """Every key through ``executor``; each line to ``sink`` as its batch completes (in
    completion order). Returns the number of lines."""
    done = 0
    for batch, lines in executor.map(batches_of(keys, batch_size)):
        for line in lines:
            sink(line)
        done += len(batch)
        if on_progress is not None:
            on_progress(done, len(keys))
    return done
