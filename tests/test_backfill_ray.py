"""`vigil scan` and `vigil rescan` on a real local Ray runtime (two worker processes) against
the test S3 server: the same decisions as in-process, garbage skipped, a worker process killed
mid-run survived, re-scans written once."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before ray is imported, which is when it reads it: nothing is reported to Ray's authors.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
ray = pytest.importorskip("ray")

from tests.backfill_library import (  # noqa: E402
    audit,
    check_rescanned,
    decisions,
    fill_bucket,
    fill_folder,
    library,
    policy_dir,
    read_report,
    stored,
)
from tests.cli_runner import run  # noqa: E402
from tests.servers import free_port  # noqa: E402
from vigil.service.backfill.ray_cluster import RayExecutor  # noqa: E402
from vigil.service.backfill.runner import Executor  # noqa: E402
from vigil.service.backfill.scan import ScanPlan  # noqa: E402
from vigil.service.backfill.service import (  # noqa: E402
    RunOptions,
    active_policy,
    scan,
    source_spec,
)
from vigil.settings import Settings  # noqa: E402

pytestmark = [
    pytest.mark.ray,
    # Ray Data's own settings warn about their own deprecated names on start-up.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]
NSFW_ONLY = {"VIGIL_DETECTORS": "nsfw"}


@pytest.fixture(scope="module")
def ray_address(s3_server: str) -> Iterator[str]:
    """A local Ray runtime on loopback, two CPUs: two actor processes. After ``s3_server``, so
    its workers inherit the test S3 credentials from the environment."""
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield str(ray.get_runtime_context().gcs_address)
    ray.shutdown()


def test_scan_on_ray_decides_as_in_process_and_skips_garbage(
    tmp_path: Path, s3_server: str, bucket: str, ray_address: str
) -> None:
    fill_bucket(s3_server, bucket, library())
    env = {**NSFW_ONLY, "VIGIL_S3_ENDPOINT_URL": s3_server}
    url = f"s3://{bucket}/library/"
    here = run("scan", url, "--report", "here.jsonl", cwd=tmp_path, env=env)
    assert here.returncode == 0, here.stderr
    on_ray = run("scan", url, "--report", "ray.jsonl", "--ray", ray_address, "--batch-size", "2",
                 cwd=tmp_path, env=env)  # fmt: skip
    assert on_ray.returncode == 0, on_ray.stderr
    found = decisions(read_report(tmp_path / "ray.jsonl"))
    assert found == decisions(read_report(tmp_path / "here.jsonl"))
    assert len(found) == 4 and found[url + "zz.bin"] == "InvalidImageFormat"
    assert f"skipped {url}zz.bin: InvalidImageFormat" in on_ray.stderr


def test_a_worker_process_killed_mid_run_is_restarted_and_its_batch_retried(
    tmp_path: Path, s3_server: str, bucket: str, ray_address: str
) -> None:
    objects = library()
    objects.update({f"library/more-{n}.jpg": objects["library/a.jpg"] for n in range(5)})
    fill_bucket(s3_server, bucket, objects)
    plan = _scan_plan(tmp_path, s3_server, f"s3://{bucket}/library/")
    lines: list[dict[str, Any]] = []
    started: list[RayExecutor] = []
    killed: list[int] = []
    restarted: list[int] = []

    def kill_after_the_first_batch(done: int, total: int) -> None:
        # Both actors: whichever holds a batch now loses it mid-run and must get it back.
        if not killed:
            killed.extend(started[0].pids())
            for pid in killed:
                os.kill(pid, signal.SIGKILL)
        elif done == total:
            restarted.extend(started[0].pids())  # Ray started each actor again

    def keep(executor: Executor) -> None:
        assert isinstance(executor, RayExecutor)
        started.append(executor)

    options = RunOptions(batch_size=1, ray=ray_address, workers=2, on_executor=keep,
                         on_progress=kill_after_the_first_batch, on_line=lines.append)  # fmt: skip
    tally = scan(plan, None, options)
    assert killed and restarted and not set(killed) & set(restarted)
    assert len(lines) == len(objects)
    assert {line["file"] for line in lines} == {f"s3://{bucket}/{key}" for key in objects}
    assert [line["error"]["code"] for line in lines if "error" in line] == ["InvalidImageFormat"]
    assert tally.outcomes["allow"] == len(objects) - 1


def test_rescan_on_ray_updates_stored_assets_once(tmp_path: Path, ray_address: str) -> None:
    folder = fill_folder(tmp_path, library())
    env = {**NSFW_ONLY, "VIGIL_POLICY_DIR": str(policy_dir(tmp_path))}
    recorded = run("scan", str(folder), "--record", "--policy", "block-graphic",
                   cwd=tmp_path, env=env)  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    before = stored(tmp_path)
    args = ("rescan", "--since", "2000-01-01", "--detectors", "nsfw,graphic", "--ray", ray_address)
    rescanned = run(*args, cwd=tmp_path, env=env)
    assert rescanned.returncode == 0, rescanned.stderr
    check_rescanned(tmp_path, before)
    first = stored(tmp_path)
    again = run(*args, cwd=tmp_path, env=env)
    assert again.returncode == 0 and '"skipped": 3' in again.stdout, again.stderr
    assert stored(tmp_path) == first and len(audit(tmp_path, "rescanned")) == 3


def _scan_plan(root: Path, endpoint: str, target: str) -> ScanPlan:
    settings = Settings(data_dir=root / "data", detectors=["nsfw"], s3_endpoint_url=endpoint)
    return ScanPlan(settings, source_spec(settings, target), active_policy(settings, None))


def test_an_address_where_no_cluster_listens_is_refused_at_once() -> None:
    from vigil.errors import RayUnavailable
    from vigil.service.backfill.ray_cluster import _check_reachable

    nobody = f"127.0.0.1:{free_port()}"
    for address in (nobody, f"ray://{nobody}"):
        with pytest.raises(RayUnavailable, match="no Ray cluster answered"):
            _check_reachable(address)
    _check_reachable("auto")  # left to Ray, which finds the local cluster itself
