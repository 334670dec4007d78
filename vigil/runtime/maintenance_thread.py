"""Maintenance: a thread that sweeps orphan blobs and runs other chores until told to stop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from vigil.runtime.maintenance import sweep_orphan_blobs
from vigil.storage.blobs import BlobStore
from vigil.storage.db import Database

log = logging.getLogger(__name__)


class MaintenanceThread:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        *,
        interval: float,
        orphan_grace: float,
        chores: Sequence[Callable[[], int]] = (),
    ) -> None:
        self.chores = list(chores)
        self.db = db
        self.blobs = blobs
        self.interval = interval
        self.orphan_grace = orphan_grace
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vigil-worker", daemon=True)

    def run_once(self) -> int:
        """Sweep orphan blobs (returns how many), then the other chores."""
        removed = sweep_orphan_blobs(self.db, self.blobs, self.orphan_grace)
        for chore in self.chores:
            chore()
        return removed

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep the worker alive; the next pass retries
                log.exception("maintenance pass failed")
            self._stop.wait(self.interval)
