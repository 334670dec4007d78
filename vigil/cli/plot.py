"""Precision-recall curves drawn with Pillow (no plotting library): axes, grid, one curve per
category, a legend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from vigil.service.engine.evaluation import CurvePoint

WIDTH, HEIGHT = 1000, 640
LEFT, TOP, PLOT = 80, 50, 500  # the square plot area: origin at (LEFT, TOP + PLOT)
PALETTE = (
    (31, 119, 180),
    (214, 39, 40),
    (44, 160, 44),
    (255, 127, 14),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _xy(recall: float, precision: float) -> tuple[float, float]:
    return LEFT + recall * PLOT, TOP + (1 - precision) * PLOT


def _axes(draw: ImageDraw.ImageDraw, font: Font, title: str) -> None:
    draw.text((LEFT + 120, 12), title, fill="black", font=font)
    for step in range(6):
        value = step / 5
        x, y = _xy(value, value)
        draw.line([(x, TOP), (x, TOP + PLOT)], fill=(225, 225, 225))
        draw.line([(LEFT, y), (LEFT + PLOT, y)], fill=(225, 225, 225))
        draw.text((x - 10, TOP + PLOT + 8), f"{value:.1f}", fill="black", font=font)
        draw.text((LEFT - 40, y - 8), f"{value:.1f}", fill="black", font=font)
    draw.rectangle([LEFT, TOP, LEFT + PLOT, TOP + PLOT], outline="black", width=2)
    draw.text((LEFT + PLOT // 2 - 25, TOP + PLOT + 35), "recall", fill="black", font=font)
    draw.text((10, TOP - 30), "precision", fill="black", font=font)


def _curve(
    draw: ImageDraw.ImageDraw, points: Sequence[CurvePoint], colour: tuple[int, ...]
) -> None:
    """A line from (0, first precision) through every point by recall, a dot on each."""
    ordered = sorted(points, key=lambda point: (point.recall, -point.precision))
    path = [_xy(0.0, ordered[0].precision)] + [_xy(p.recall, p.precision) for p in ordered]
    draw.line(path, fill=colour, width=3)
    for x, y in path[1:]:
        draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)


def draw_pr_curves(
    curves: Mapping[str, Sequence[CurvePoint]], destination: Path, title: str
) -> None:
    """Write a PNG of one curve per category; a category with no positives is only named in
    the legend, as it has no curve."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=16)
    _axes(draw, font, title)
    legend_x, legend_y = LEFT + PLOT + 30, TOP
    for index, (category, points) in enumerate(curves.items()):
        colour = PALETTE[index % len(PALETTE)]
        if points:
            _curve(draw, points, colour)
        y = legend_y + 26 * index
        draw.rectangle([legend_x, y + 3, legend_x + 14, y + 17], fill=colour)
        shown = _shorten(category) + ("" if points else " (no positives)")
        draw.text((legend_x + 22, y), shown, fill="black", font=font)
    image.save(destination, format="PNG")


def _shorten(text: str, most: int = 26) -> str:
    return text if len(text) <= most else f"{text[: most - 1]}…"
