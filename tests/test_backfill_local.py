"""`vigil scan s3://...` / `--record` / Parquet and `vigil rescan`, in this process."""

from __future__ import annotations

from pathlib import Path

from tests.backfill_library import (
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
from tests.cli_runner import run

NSFW_ONLY = {"VIGIL_DETECTORS": "nsfw"}


def test_scan_of_an_s3_prefix_reports_each_object_and_skips_garbage(
    tmp_path: Path, s3_server: str, bucket: str
) -> None:
    fill_bucket(s3_server, bucket, library())
    env = {**NSFW_ONLY, "VIGIL_S3_ENDPOINT_URL": s3_server}
    result = run("scan", f"s3://{bucket}/library/", "--report", "out.jsonl", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    found = decisions(read_report(tmp_path / "out.jsonl"))
    url = f"s3://{bucket}/library/"
    assert set(found) == {url + name for name in ("a.jpg", "b.png", "c.jpg", "zz.bin")}
    assert found[url + "zz.bin"] == "InvalidImageFormat"  # reported and skipped, not fatal
    assert all(found[url + name][0] == "allow" for name in ("a.jpg", "b.png", "c.jpg"))
    assert f"skipped {url}zz.bin: InvalidImageFormat" in result.stderr
    assert '"total": 4' in result.stdout


def test_scan_of_a_missing_bucket_is_refused_with_a_code(tmp_path: Path, s3_server: str) -> None:
    env = {**NSFW_ONLY, "VIGIL_S3_ENDPOINT_URL": s3_server}
    result = run("scan", "s3://no-such-bucket/x", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "InvalidParameter" in result.stderr and "NoSuchBucket" in result.stderr


def test_scan_writes_a_parquet_report(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    folder = fill_folder(tmp_path, library())
    result = run("scan", str(folder), "--report", "out.parquet", cwd=tmp_path, env=NSFW_ONLY)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "out.parquet").to_pylist()
    by_name = {Path(row["file"]).name: row for row in table}
    assert set(by_name) == {"a.jpg", "b.png", "c.jpg", "zz.bin"}
    assert by_name["zz.bin"]["error_code"] == "InvalidImageFormat"
    assert by_name["a.jpg"]["action"] == "allow" and by_name["a.jpg"]["line"].startswith("{")


def test_record_then_rescan_with_a_new_detector_updates_assets_once(tmp_path: Path) -> None:
    folder = fill_folder(tmp_path, library())
    env = {**NSFW_ONLY, "VIGIL_POLICY_DIR": str(policy_dir(tmp_path))}
    recorded = run(
        "scan", str(folder), "--record", "--policy", "block-graphic", "--report", "rec.jsonl",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    lines = read_report(tmp_path / "rec.jsonl")
    assert sorted(line.get("status", "") for line in lines.values()) == ["", *["approved"] * 3]
    before = stored(tmp_path)
    rescanned = run("rescan", "--since", "2000-01-01", "--detectors", "nsfw,graphic",
                    cwd=tmp_path, env=env)  # fmt: skip
    assert rescanned.returncode == 0, rescanned.stderr
    assert '"rescanned: approved -> rejected": 3' in rescanned.stdout
    check_rescanned(tmp_path, before)
    first = stored(tmp_path)
    again = run("rescan", "--since", "2000-01-01", "--detectors", "nsfw,graphic",
                cwd=tmp_path, env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert '"skipped": 3' in again.stdout  # a rerun is a no-op
    assert stored(tmp_path) == first and len(audit(tmp_path, "rescanned")) == 3
