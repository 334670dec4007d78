"""What a vigil process does besides answering requests: queue workers and maintenance."""

from __future__ import annotations

from vigil.app import Vigil
from vigil.queue.worker import WorkerPool
from vigil.runtime.maintenance_thread import MaintenanceThread


class Background:
    def __init__(self, vigil: Vigil, *, concurrency: int = 1) -> None:
        settings = vigil.settings
        self.pool = WorkerPool(
            vigil.queue,
            vigil.job_handlers(),
            concurrency=concurrency,
            batch_size=settings.worker_batch_size,
            poll_seconds=settings.worker_poll_seconds,
            batch_wait_seconds=settings.worker_batch_wait_ms / 1000,
        )
        self.maintenance = MaintenanceThread(
            vigil.db,
            vigil.blobs,
            interval=settings.worker_interval_seconds,
            orphan_grace=settings.orphan_grace_seconds,
            chores=(
                vigil.queue.purge_finished,
                vigil.uploads.purge_idempotency_keys,
                vigil.blobs.sweep_temporary,
                vigil.users.guard.purge_events,  # sign-in events past their retention
                vigil.archive.archive_due,  # last: a storage outage fails the pass here
            ),
        )

    def start(self) -> None:
        self.pool.start()
        self.maintenance.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop claiming jobs, finish the batches in hand, stop maintenance."""
        self.pool.stop(timeout)
        self.maintenance.stop()
