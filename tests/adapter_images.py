"""A small adapter-training set built from scikit-image's photos: "Cat" for crops, flips and
colour changes of its two cat photos, safe for the same of other photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps
from skimage import data

CATS = ("chelsea", "cat")
OTHERS = ("astronaut", "rocket", "camera", "hubble_deep_field", "immunohistochemistry", "coins")


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def variant(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A random crop (70-100% of each side), maybe mirrored, with changed colour and brightness."""
    width, height = image.size
    w, h = int(width * rng.uniform(0.7, 1.0)), int(height * rng.uniform(0.7, 1.0))
    left, top = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
    out = image.crop((left, top, left + w, top + h))
    if rng.random() < 0.5:
        out = ImageOps.mirror(out)
    out = ImageEnhance.Color(out).enhance(rng.uniform(0.6, 1.4))
    return ImageEnhance.Brightness(out).enhance(rng.uniform(0.75, 1.25))


def write_manifest(folder: Path, per_photo: int = 4, seed: int = 0) -> Path:
    """Images under ``folder/images`` and ``folder/manifest.jsonl`` naming them (relative)."""
    rng = np.random.default_rng(seed)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    cat_count = per_photo * len(OTHERS) // len(CATS)  # as many cats as others
    for name, count in [*((n, cat_count) for n in CATS), *((n, per_photo) for n in OTHERS)]:
        source = photo(name)
        for i in range(count):
            ref = f"images/{name}-{i}.jpg"
            variant(source, rng).save(folder / ref, quality=90)
            found = [{"Name": "Cat"}] if name in CATS else []
            truth = {"ModerationLabels": found}
            lines.append(json.dumps({"source-ref": ref, "content-moderation-groundtruth": truth}))
    manifest = folder / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest
