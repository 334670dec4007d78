"""Backfill throughput: `vigil scan s3://...` in-process and on a local Ray runtime.

Generated JPEGs (random crops of scikit-image's sample photos, ``--size`` pixels on a side)
are put in a bucket on a local S3 server (moto, as the tests use); then the same scan runs
(a) in this process (one ``ScanWorker``, batches of ``--batch``) and (b) on a Ray runtime
started here with ``--cpus`` CPUs, one actor per CPU. Each figure is objects per second over
the whole run: listing, reading from S3, decoding, the detectors, the policy; start-up
(loading the detectors, starting Ray's actors) is timed apart and left out.

Last it prints a projection for ``--nodes`` machines: per-machine Ray throughput measured
here times the number of machines. It is a projection, not a measurement, and assumes that
the machines are like this one, that the bucket and the network serve every node at once
(S3 scales per prefix; one moto server would not), and that the driver's listing and the
report keep up (they are a few milliseconds per thousand objects).

Run: .venv/bin/python benchmarks/backfill.py [--images 200] [--detectors nsfw] [--cpus 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
from PIL import Image
from skimage import data

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
from tests.conftest import S3_TEST_ENV
from tests.images import encode
from tests.servers import S3Server
from vigil.service.backfill.runner import Executor
from vigil.service.backfill.scan import ScanPlan
from vigil.service.backfill.service import RunOptions, active_policy, scan, source_spec
from vigil.settings import Settings

SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")


def images(count: int, size: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    photos = [getattr(data, name)() for name in SOURCES]
    made = []
    for _ in range(count):
        photo = photos[int(rng.integers(len(photos)))]
        top = int(rng.integers(0, photo.shape[0] // 3))
        left = int(rng.integers(0, photo.shape[1] // 3))
        crop = Image.fromarray(photo[top:, left:]).convert("RGB").resize((size, size))
        made.append(encode(crop))
    return made


def fill(endpoint: str, count: int, size: int) -> str:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="library")
    for index, body in enumerate(images(count, size, seed=7)):
        client.put_object(Bucket="library", Key=f"photos/{index:06d}.jpg", Body=body)
    return "s3://library/photos/"


def plan_for(root: Path, endpoint: str, url: str, detectors: list[str]) -> ScanPlan:
    settings = Settings(data_dir=root, detectors=detectors, s3_endpoint_url=endpoint)
    return ScanPlan(settings, source_spec(settings, url), active_policy(settings, None))


def timed(plan: ScanPlan, options: RunOptions) -> tuple[float, float, int]:
    """(start-up seconds, scanning seconds, objects) for one run."""
    marks: list[float] = [time.perf_counter()]

    def started(executor: Executor) -> None:
        pids = getattr(executor, "pids", None)
        if pids is not None:
            pids()  # every actor has loaded its detectors
        marks.append(time.perf_counter())

    begin = time.perf_counter()
    tally = scan(plan, None, RunOptions(**{**options.__dict__, "on_executor": started}))
    end = time.perf_counter()
    ready = marks[1] if len(marks) > 1 else begin
    return ready - begin, end - ready, int(tally.to_dict()["total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--detectors", default="nsfw")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--nodes", type=int, default=10)
    args = parser.parse_args()
    os.environ.update(S3_TEST_ENV)
    server = S3Server().start()
    try:
        url = fill(server.endpoint_url, args.images, args.size)
        with TemporaryDirectory() as root:
            plan = plan_for(Path(root), server.endpoint_url, url, args.detectors.split(","))
            report(plan, args)
    finally:
        server.stop()


def report(plan: ScanPlan, args: argparse.Namespace) -> None:
    import ray

    print(f"{args.images} images of {args.size}px, detectors {args.detectors}, "
          f"batch {args.batch}, {os.cpu_count()} CPUs here")  # fmt: skip
    start, took, count = timed(plan, RunOptions(batch_size=args.batch))
    local = count / took
    print(f"(a) in-process:       {local:7.1f} images/s  (start-up {start:.1f} s)")
    ray.init(num_cpus=args.cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False)  # fmt: skip
    try:
        address = str(ray.get_runtime_context().gcs_address)
        options = RunOptions(batch_size=args.batch, ray=address, workers=args.cpus)
        start, took, count = timed(plan, options)
    finally:
        ray.shutdown()
    on_ray = count / took
    print(f"(b) Ray, {args.cpus} actors:    {on_ray:7.1f} images/s  (start-up {start:.1f} s)")
    print(f"ratio_ray_vs_in_process={on_ray / local:.2f}")
    print(
        f"PROJECTION (not measured) for {args.nodes} machines like this one: "
        f"{on_ray * args.nodes:.0f} images/s, {on_ray * args.nodes * 3600 / 1e6:.2f} M images/h; "
        "assumes linear scaling: S3 and the network serve all nodes, same CPUs per node"
    )


if __name__ == "__main__":
    main()
