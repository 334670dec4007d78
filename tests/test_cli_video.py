"""`vigil moderate` and `vigil scan` on videos, as real processes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run
from tests.images import astronaut_jpeg
from tests.videos import clip, truncated

SCENES = [("astronaut", 2), ("colorwheel", 2), ("coffee", 2)]


def test_moderate_prints_a_videos_metadata_labels_and_segments(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(clip(SCENES))
    result = run("moderate", "clip.mp4", "--min-confidence", "20", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (record,) = (json.loads(line) for line in result.stdout.splitlines())
    assert record["VideoMetadata"]["DurationMillis"] == 6000
    assert record["decision"]["action"] == "allow"
    assert record["Segments"], record
    for segment in record["Segments"]:
        assert segment["Confidence"] >= 20
        assert 0 <= segment["StartTimestampMillis"] < segment["EndTimestampMillis"] <= 6000
    assert "6 frames sampled" in record["StatusMessage"]


def test_moderate_table_lists_segments_with_times(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(clip(SCENES))
    result = run(
        "moderate", "clip.mp4", "--format", "table", "--min-confidence", "20", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "segments" in result.stdout and "0:02.000" in result.stdout


def test_scan_handles_videos_beside_images(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "clip.mp4").write_bytes(clip(SCENES))
    (media / "broken.mp4").write_bytes(truncated(clip(SCENES), 0.3))
    (media / "photo.jpg").write_bytes(astronaut_jpeg())
    result = run("scan", "media", "--report", "out.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = {
        Path(record["file"]).name: record
        for record in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())
    }
    assert "Segments" in records["clip.mp4"]
    assert records["broken.mp4"]["error"]["code"] == "CorruptVideo"
    assert "ModerationLabels" in records["photo.jpg"]
    assert "scanned 3 file(s)" in result.stdout
