"""Uploads while a worker is killed with SIGKILL at random moments and restarted.

Starts `vigil serve --no-worker` and one `vigil worker` in a temporary data directory, sends
asynchronous uploads (each with an Idempotency-Key, retried on connection errors and 503s),
and meanwhile kills the worker with SIGKILL every few seconds and starts a new one. At the
end it checks every upload that was acknowledged:

- completed: it reached a final state (approved, rejected, review, pending or failed);
- lost: acknowledged but missing, or still processing when the run gave up waiting;
- conflicting: more than one machine decision recorded for the same asset;
- stuck: any asset in the database (acknowledged or not) that is not in a final state once
  the queue has drained; an upload cut off by a kill must not leave one behind.

Its last line is `completed=<n> lost=<n> conflicting=<n> stuck=<n>`.

Run: .venv/bin/python benchmarks/chaos.py [--uploads 1000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from skimage import data
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
from tests.servers import VIGIL, start_vigil_serve

FINAL = {"approved", "rejected", "review", "pending", "failed"}


def photos(count: int, seed: int) -> list[bytes]:
    """Distinct small JPEGs: random crops of the sample photos."""
    rng = np.random.default_rng(seed)
    sources = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    out = []
    for n in range(count):
        image = sources[n % len(sources)]
        top = int(rng.integers(0, image.shape[0] - 200))
        left = int(rng.integers(0, image.shape[1] - 200))
        buffer = io.BytesIO()
        Image.fromarray(image[top : top + 200, left : left + 200]).save(buffer, "JPEG")
        out.append(buffer.getvalue())
    return out


class Chaos:
    """Keeps one worker running, killing it with SIGKILL at a random moment 3 to 10 seconds
    after it was started (a worker needs a few seconds to load its models, so shorter lives
    would kill it before it ever claims a job)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.kills = 0
        self.stopping = threading.Event()
        self.worker = self._start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [VIGIL, "worker"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def _run(self) -> None:
        while not self.stopping.wait(random.uniform(3, 10)):
            self.worker.send_signal(signal.SIGKILL)
            self.worker.wait()
            self.kills += 1
            self.worker = self._start()

    def start(self) -> None:
        self.thread.start()

    def calm(self) -> None:
        """Stop killing; the last worker finishes what is left."""
        self.stopping.set()
        self.thread.join()

    def stop(self) -> None:
        self.worker.send_signal(signal.SIGTERM)
        self.worker.wait(timeout=120)


def upload(client: httpx.Client, url: str, key: str, body: bytes, n: int) -> str | None:
    """POST until acknowledged; returns the asset id (None if never acknowledged)."""
    for _ in range(50):
        try:
            response = client.post(
                f"{url}/v1/assets",
                params={"async": "true"},
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"chaos-{n}"},
                files={"file": (f"{n}.jpg", body)},
                timeout=30,
            )
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        if response.status_code in (201, 202):
            asset_id: str = response.json()["id"]
            return asset_id
        if response.status_code != 503:
            raise RuntimeError(f"upload {n} refused: {response.text}")
        time.sleep(0.2)
    return None


def final_states(database_url: str, ids: list[str]) -> tuple[Counter[str], int, int]:
    """Acknowledged assets by status, how many have more than one machine decision, and
    how many of all stored assets are not in a final state."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        status = dict(connection.execute(text("SELECT id, status FROM assets")).all())
        decisions = connection.execute(
            text(
                "SELECT asset_id, COUNT(*) FROM audit_events WHERE action = 'moderated' "
                "GROUP BY asset_id HAVING COUNT(*) > 1"
            )
        ).all()
    engine.dispose()
    stuck = sum(1 for state in status.values() if state not in FINAL)
    return Counter(status.get(asset_id, "missing") for asset_id in ids), len(decisions), stuck


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--database-url", default="", help="default: SQLite in the temp dir")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--drain-timeout", type=float, default=900)
    args = parser.parse_args()
    random.seed(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="vigil-chaos-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'vigil.db'}"
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(workdir),
        "VIGIL_DATABASE_URL": database_url,
        "VIGIL_JOB_LEASE_SECONDS": "5",
        "VIGIL_WORKER_POLL_SECONDS": "0.2",
        "VIGIL_JOB_MAX_ATTEMPTS": "50",  # kills are not the images' fault
    }
    server = start_vigil_serve(env, "--no-worker")
    url, key = server.url, server.admin_key
    try:
        bodies = photos(args.uploads, args.seed)
        chaos = Chaos(env)
        chaos.start()
        started = time.perf_counter()
        with httpx.Client() as client, ThreadPoolExecutor(4) as pool:
            acknowledged = list(
                pool.map(lambda n: upload(client, url, key, bodies[n], n), range(args.uploads))
            )
        uploaded_s = time.perf_counter() - started
        ids = [asset_id for asset_id in acknowledged if asset_id is not None]
        deadline = time.monotonic() + args.drain_timeout
        calmed = False
        while True:
            states, conflicting, stuck = final_states(database_url, ids)
            waiting = sum(count for state, count in states.items() if state not in FINAL)
            if int(time.perf_counter() - started) % 30 == 0:
                print(
                    f"  {time.perf_counter() - started:.0f} s: {waiting} waiting, "
                    f"{chaos.kills} kills",
                    flush=True,
                )
            if not waiting or time.monotonic() > deadline:
                break
            if not calmed and time.monotonic() > deadline - args.drain_timeout / 2:
                chaos.calm()  # give the last worker a fair chance to finish
                calmed = True
            time.sleep(1)
        total_s = time.perf_counter() - started
        if not calmed:
            chaos.calm()
        chaos.stop()
    finally:
        server.stop()
    completed = sum(count for state, count in states.items() if state in FINAL)
    lost = args.uploads - completed
    print(f"uploads={args.uploads} acknowledged={len(ids)} worker_kills={chaos.kills}")
    print(f"upload_seconds={uploaded_s:.1f} total_seconds={total_s:.1f}")
    print("final states: " + ", ".join(f"{s}={n}" for s, n in sorted(states.items())))
    print(f"completed={completed} lost={lost} conflicting={conflicting} stuck={stuck}")


if __name__ == "__main__":
    main()
