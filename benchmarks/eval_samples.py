"""Write the sample evaluation set of docs/evaluation.md: the 20 photos and pictures that
scikit-image bundles (no download; all safe for work), as PNG, and a manifest labelling every
one ``safe``. Then run ``vigil eval DIR/manifest.csv``.

Run: .venv/bin/python benchmarks/eval_samples.py DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

NAMES = (
    "astronaut", "brick", "camera", "cat", "chelsea", "clock", "coffee", "coins", "colorwheel",
    "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "moon",
    "page", "retina", "rocket", "text",
)  # fmt: skip


def _image(name: str) -> Image.Image:
    pixels = np.asarray(getattr(data, name)())
    if pixels.dtype == bool:  # the horse is a binary mask
        pixels = pixels.astype(np.uint8) * 255
    return Image.fromarray(pixels).convert("RGB")


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        _image(name).save(folder / f"{name}.png")
    rows = ["path,label", *(f"{name}.png,safe" for name in NAMES)]
    (folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    print(f"wrote {len(NAMES)} images and {folder / 'manifest.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "eval-samples"))
