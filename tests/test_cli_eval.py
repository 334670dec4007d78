"""`vigil eval`, run as a real process on a small manifest of sample images."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from skimage import data

from tests.cli_runner import run
from tests.images import astronaut_jpeg, chelsea_png, coffee_jpeg, encode


def _write_images(folder: Path) -> None:
    (folder / "astronaut.jpg").write_bytes(astronaut_jpeg())
    (folder / "cat.png").write_bytes(chelsea_png())
    (folder / "coffee.jpg").write_bytes(coffee_jpeg())
    # NudeNet finds "Exposed Buttocks or Anus" at about 83 in the colour wheel: a known
    # false positive (docs/detectors.md), which the default policy sends to review.
    (folder / "wheel.png").write_bytes(encode(data.colorwheel(), "PNG"))


def test_safe_photos_show_the_false_positive_and_the_review_share(tmp_path: Path) -> None:
    _write_images(tmp_path)
    rows = ["path,label", "astronaut.jpg,safe", "cat.png,safe", "coffee.jpg,safe", "wheel.png,safe"]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    result = run("eval", "manifest.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "Explicit" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    # positives, flagged, TP, FP, FN, precision, recall, F1, FP rate
    assert cells == ["Explicit", "0", "1", "0", "1", "0", "0.000", "-", "-", "0.250"]
    assert "review share: 25.0% (1 of 4)" in result.stdout


def test_json_report_plot_and_refused_files(tmp_path: Path) -> None:
    _write_images(tmp_path)
    rows = [
        "path,label",
        "astronaut.jpg,safe",
        "cat.png,safe",
        "coffee.jpg,safe",
        # Labelled with the detector's own view, only to have a positive to draw a curve for.
        "wheel.png,Exposed Buttocks or Anus",
        "missing.png,safe",
    ]
    (tmp_path / "manifest.csv").write_text("\n".join(rows) + "\n")
    result = run("eval", "manifest.csv", "--format", "json", "--plot", "pr.png", cwd=tmp_path)
    assert result.returncode == 1  # one file could not be read
    report = json.loads(result.stdout)
    assert report["policy"] == "default" and report["files"] == 4
    (explicit,) = report["categories"]
    assert explicit["category"] == "Explicit"
    assert (explicit["true_positives"], explicit["false_positives"]) == (1, 0)
    assert (explicit["precision"], explicit["recall"], explicit["f1"]) == (1.0, 1.0, 1.0)
    assert report["review_share"] == 0.25
    assert [item["code"] for item in report["refused"]] == ["FileUnreadable"]
    top = report["curves"]["Explicit"][0]
    # the wheel scores highest; fusion lowers NudeNet's unbacked region, still into review
    assert top[0] >= 50 and top[1:] == [1.0, 1.0]
    with Image.open(tmp_path / "pr.png") as plot:
        assert plot.format == "PNG" and plot.size == (1000, 640)


def test_a_bad_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("path,label\na.jpg,porn\n")
    result = run("eval", "manifest.csv", cwd=tmp_path)
    assert result.returncode == 2
    assert "InvalidManifest" in result.stderr and "line 2" in result.stderr
