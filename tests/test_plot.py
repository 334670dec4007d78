"""The precision-recall plot, drawn with Pillow."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from vigil.cli.plot import LEFT, PALETTE, PLOT, TOP, WIDTH, draw_pr_curves
from vigil.service.engine.evaluation import CurvePoint


def test_one_coloured_curve_per_category_with_positives(tmp_path: Path) -> None:
    curves = {
        "Explicit": [CurvePoint(90.0, 1.0, 0.5), CurvePoint(20.0, 0.5, 1.0)],
        "Violence": [],  # no positives: only named in the legend
        "Gambling": [CurvePoint(50.0, 0.25, 1.0)],
    }
    draw_pr_curves(curves, tmp_path / "pr.png", "test")
    with Image.open(tmp_path / "pr.png") as image:
        assert image.format == "PNG" and image.width == WIDTH
        rgb = image.convert("RGB")
        colours = {colour for _, colour in rgb.getcolors(1 << 20) or []}
        # Halfway between (recall 0.5, precision 1) and (1, 0.5) lies on the Explicit curve.
        assert rgb.getpixel((LEFT + PLOT * 3 // 4, TOP + PLOT // 4)) == PALETTE[0]
    assert {PALETTE[0], PALETTE[1], PALETTE[2]} <= colours  # legend boxes, Violence's too
