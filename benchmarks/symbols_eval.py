"""Precision, recall, false alarms and speed of the ``symbols`` detector (docs/symbols.md).

Prints, for composites of both recipes of ``scripts/symbols_generate.py`` (a: the one the
classifier was trained on, drawn here with another seed; b: held out, drawn differently), the
precision and recall per label and per symbol; false alarms on generated ordinary graphics;
false alarms on the everyday photos of ``../shared/dev-images`` when that folder is present;
and the median time per image for photos scaled to one megapixel.

    python benchmarks/symbols_eval.py [--count 300] [--graphics 200] [--min-score 0.9]

A detection counts as right when its label is the symbol's and its box overlaps the symbol's
with an IoU of at least 0.3; every other detection is a false alarm. Symbols the detector is
not asked for (``--symbols``; by default the Celtic cross and the Wolfsangel) are not counted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import symbols_generate as generate  # noqa: E402

from vigil.detectors.symbols.detector import Found, SymbolsDetector  # noqa: E402

DEV_IMAGES = ROOT.parent / "shared" / "dev-images" / "everyday"
MATCH_IOU = 0.3
SEED = 7  # the training script draws with another seed


def box_iou(found: Found, placed: generate.Placed, size: tuple[int, int]) -> float:
    w, h = size
    ax, ay, aw, ah = (
        found.box.left * w,
        found.box.top * h,
        found.box.width * w,
        found.box.height * h,
    )
    bx, by, bw, bh = placed.box
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / max(1e-9, aw * ah + bw * bh - inter)


def score_recipe(detector: SymbolsDetector, recipe: str, count: int) -> None:
    rng = np.random.default_rng(SEED + ord(recipe))
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    total: Counter[str] = Counter()
    hit_kinds: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    small = [0, 0]
    for _ in range(count):
        made = generate.composite(rng, recipe)
        size = (made.image.shape[1], made.image.shape[0])
        found = detector.find(Image.fromarray(made.image))
        matched: set[int] = set()
        for f in found:
            match = next(
                (
                    i
                    for i, p in enumerate(made.symbols)
                    if i not in matched and p.label == f.label and box_iou(f, p, size) >= MATCH_IOU
                ),
                None,
            )
            if match is None:
                fp[f.label] += 1
            else:
                matched.add(match)
                tp[f.label] += 1
        for i, p in enumerate(made.symbols):
            if p.kind not in detector.symbols:
                continue  # not looked for: neither a hit nor a miss
            total[p.label] += 1
            kinds[p.kind] += 1
            hit_kinds[p.kind] += i in matched
            if max(p.box[2], p.box[3]) < 0.08 * min(size):
                small[0] += 1
                small[1] += i in matched
    print(f"recipe {recipe}: {count} composites, {sum(total.values())} symbols")
    for label in sorted(set(total) | set(fp)):
        precision = tp[label] / max(1, tp[label] + fp[label])
        recall = tp[label] / max(1, total[label])
        print(
            f"  {label:16s} precision {precision:.3f} ({fp[label]} false)  "
            f"recall {recall:.3f} ({tp[label]}/{total[label]})"
        )
    all_tp, all_fp = sum(tp.values()), sum(fp.values())
    print(
        f"  {'all':16s} precision {all_tp / max(1, all_tp + all_fp):.3f}  "
        f"recall {all_tp / max(1, sum(total.values())):.3f}"
    )
    print(
        "  recall by symbol: "
        + ", ".join(f"{k} {hit_kinds[k] / max(1, kinds[k]):.3f}" for k in sorted(kinds))
    )
    print(
        f"  recall under 8 % of the short side: {small[1] / max(1, small[0]):.3f} "
        f"({small[1]}/{small[0]})"
    )


def score_graphics(detector: SymbolsDetector, count: int) -> None:
    rng = np.random.default_rng(SEED)
    flagged: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    for i in range(count):
        kind = generate.GRAPHICS[i % len(generate.GRAPHICS)]
        shown[kind] += 1
        found = detector.find(Image.fromarray(generate.ordinary_graphic(rng, kind)))
        flagged[kind] += bool(found)
    print(f"ordinary graphics: {sum(flagged.values())} of {count} pictures with a detection")
    print("  " + ", ".join(f"{k} {flagged[k]}/{shown[k]}" for k in generate.GRAPHICS))


def score_photos(detector: SymbolsDetector) -> None:
    files = sorted(DEV_IMAGES.glob("*.*")) if DEV_IMAGES.is_dir() else []
    if not files:
        print(f"everyday photos: {DEV_IMAGES} is absent, not measured")
        return
    flagged = []
    for path in files:
        with Image.open(path) as opened:
            found = detector.find(opened.convert("RGB"))
        if found:
            flagged.append((path.name, found))
    print(f"everyday photos: {len(flagged)} of {len(files)} with a detection")
    for name, found in flagged:
        print(f"  {name}: " + ", ".join(f"{f.kind} {f.score:.3f}" for f in found))


def timing(detector: SymbolsDetector) -> None:
    """Median wall and CPU time per photo scaled to one megapixel (photos from dev-images
    when present, else composites)."""
    files = sorted(DEV_IMAGES.glob("*.*"))[::8] if DEV_IMAGES.is_dir() else []
    images = []
    for path in files:
        with Image.open(path) as opened:
            images.append(_megapixel(opened.convert("RGB")))
    if not images:
        rng = np.random.default_rng(SEED)
        images = [
            _megapixel(Image.fromarray(generate.composite(rng, "b").image)) for _ in range(60)
        ]
    walls, cpus = [], []
    for image in images:
        wall, cpu = time.perf_counter(), time.process_time()
        detector.find(image)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(
        f"speed: median {1000 * statistics.median(walls):.1f} ms wall, "
        f"{1000 * statistics.median(cpus):.1f} ms CPU per 1-megapixel image "
        f"({len(images)} images, 90th percentile {1000 * np.percentile(walls, 90):.1f} ms wall)"
    )


def _megapixel(image: Image.Image) -> Image.Image:
    scale = (1_000_000 / (image.width * image.height)) ** 0.5
    return image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="composites per recipe")
    parser.add_argument("--graphics", type=int, default=200)
    parser.add_argument(
        "--min-score",
        type=float,
        default=None,
        help="one threshold for all symbols (default: each symbol's own)",
    )
    parser.add_argument(
        "--symbols", nargs="*", help="symbols to report (default: the detector's default)"
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=("a", "b", "graphics", "photos", "speed")
    )
    args = parser.parse_args()
    detector = (
        SymbolsDetector(min_score=args.min_score)
        if args.symbols is None
        else SymbolsDetector(min_score=args.min_score, symbols=args.symbols)
    )
    detector.load()
    cut = args.min_score if args.min_score is not None else "per symbol"
    shown = ", ".join(sorted(detector.symbols))
    print(f"symbols detector {detector.version}, min_score {cut}, symbols {shown}")
    for recipe in ("a", "b"):
        if recipe not in args.skip:
            score_recipe(detector, recipe, args.count)
    if "graphics" not in args.skip:
        score_graphics(detector, args.graphics)
    if "photos" not in args.skip:
        score_photos(detector)
    if "speed" not in args.skip:
        timing(detector)


if __name__ == "__main__":
    main()
