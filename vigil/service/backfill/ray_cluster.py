"""Running a backfill's batches on a Ray cluster; imported only with ``--ray``.

Ray Data feeds the keys in batches; a pool of actors, one per worker process, each holds a
started worker (detectors loaded once) and moderates whole batches. An actor whose process
dies is restarted (its detectors loaded again) and the batch it held is retried on it
(``max_restarts`` / ``max_task_retries``); a batch that kills its actor every time is given
up after ``TASK_RETRIES`` and reported line by line as failed, never fatal to the run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from typing import Any

from vigil.errors import RayUnavailable
from vigil.service.backfill.runner import Line, WorkerPlan

# Ray reports usage to its authors unless told not to; a self-hosted moderation tool should
# not phone out. Set before ray is imported, which is when Ray reads it.
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

TASK_RETRIES = 3
# How long the head's address may take to accept a connection before --ray gives up.
CONNECT_SECONDS = 5.0


def _ray() -> Any:
    try:
        import ray
    except ImportError as missing:
        raise RayUnavailable("--ray needs Ray: pip install 'vigil[ray]'") from missing
    return ray


def connect(address: str) -> None:
    """Join the cluster at ``address`` (``auto``: the one this machine belongs to), unless
    this process already did."""
    ray = _ray()
    if ray.is_initialized():
        return
    _check_reachable(address)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as failure:
        raise RayUnavailable(f"no Ray cluster answered at {address!r}: {failure}") from failure


def _check_reachable(address: str) -> None:
    """Refuse at once a ``host:port`` (or ``ray://host:port``) where nothing listens: Ray itself
    keeps retrying such an address for minutes."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", or a form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except OSError as failure:
        raise RayUnavailable(f"no Ray cluster answered at {address!r}: {failure}") from failure


class _Actor:
    """Holds one started worker for the life of its process."""

    def __init__(self, plan: WorkerPlan) -> None:
        self.worker = plan.start()

    def run(self, keys: list[str]) -> list[Line]:
        return self.worker.run(keys)

    def pid(self) -> int:
        return os.getpid()


class RayExecutor:
    """Batches over ``size`` actors (default: one per CPU of the cluster)."""

    def __init__(self, address: str, plan: WorkerPlan, size: int | None = None) -> None:
        ray = _ray()
        connect(address)
        self._ray = ray
        remote = ray.remote(num_cpus=1, max_restarts=-1, max_task_retries=TASK_RETRIES)
        count = size or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.actors = [remote(_Actor).remote(plan) for _ in range(count)]

    def pids(self) -> list[int]:
        """Each actor's process id (waits until they have started)."""
        return [int(pid) for pid in self._ray.get([actor.pid.remote() for actor in self.actors])]

    def map(self, batches: Iterable[list[str]]) -> Iterator[tuple[list[str], list[Line]]]:
        """Each batch's lines, in completion order; at most one batch per actor in flight."""
        idle = list(self.actors)
        running: dict[Any, tuple[Any, list[str]]] = {}
        for batch in _through_ray_data(self._ray, batches):
            if not idle:
                yield self._finished(running, idle)
            actor = idle.pop()
            running[actor.run.remote(batch)] = (actor, batch)
        while running:
            yield self._finished(running, idle)

    def _finished(
        self, running: dict[Any, tuple[Any, list[str]]], idle: list[Any]
    ) -> tuple[list[str], list[Line]]:
        (ref,), _ = self._ray.wait(list(running), num_returns=1)
        actor, batch = running.pop(ref)
        idle.append(actor)
        try:
            return batch, self._ray.get(ref)
        except self._ray.exceptions.RayError as failure:
            return batch, [_lost(key, failure) for key in batch]

    def close(self) -> None:
        for actor in self.actors:
            self._ray.kill(actor)


def _through_ray_data(ray: Any, batches: Iterable[list[str]]) -> Iterator[list[str]]:
    """The keys as a Ray dataset (blocks in the cluster's object store), streamed back in
    batches of the run's size."""
    batches = list(batches)
    if not batches:
        return
    size = max(len(batch) for batch in batches)
    keys = [{"key": key} for batch in batches for key in batch]
    dataset = ray.data.from_items(keys)
    for block in dataset.iter_batches(batch_size=size, batch_format="numpy"):
        yield [str(key) for key in block["key"]]


def _lost(key: str, failure: Exception) -> Line:
    message = f"the worker process was lost {TASK_RETRIES + 1} times on this batch: {failure}"
    return {"file": key, "error": {"code": "InternalError", "message": message[:500]}}
