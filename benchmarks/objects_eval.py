"""The objects detector on the dev photos: false alarms, recall, accuracy, int8 against fp32, speed.

Reads ``../shared/dev-images`` (beside the repository) when it is there: 876 everyday ImageNet
sample photos (one per class, almost all ``safe``) and 32 positives (weapons, alcohol, a slot
machine, and juice/water photos as hard negatives for alcohol). It prints, for each label the
detector reports and each precision:

- how many ``safe`` photos reach confidence 25, 50, 75 and 90 (everyday, then the hard negatives),
  and which ones reach 50;
- recall on the positives of that label at 50 and at the default policy's review band;
- top-1 and top-5 ImageNet accuracy (the everyday file names carry the class);
- for int8: the share of (photo, label) pairs whose default-policy band is the same as fp32's,
  top-1 agreement, the largest confidence difference;
- milliseconds per image (median of batches of 8, preprocessing included).

Without the folder it says so and measures speed on generated images only. The dev photos are
like the ones ImageNet models were trained on: recall here is optimistic.

``--write-calibration`` first records the int8 activation ranges of the variant on crops and
flips of scikit-image's sample photos into vigil/detectors/calibration/objects-<variant>.json.

Run: .venv/bin/python benchmarks/objects_eval.py [--variant lite0] [--precisions fp32,int8]
     [--write-calibration]
"""

from __future__ import annotations

import argparse
import csv
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vigil import taxonomy  # noqa: E402
from vigil.detectors.objects import efficientnet as effnet  # noqa: E402
from vigil.detectors.objects.detector import ObjectsDetector, label_confidences, preprocess  # noqa: E402
from vigil.detectors.objects.imagenet import SYNSETS  # noqa: E402
from vigil.detectors.quantize import write_table  # noqa: E402
from vigil.media.image import DecodedImage  # noqa: E402
from vigil.policy.loader import PolicyStore  # noqa: E402
from vigil.policy.model import Band, Policy  # noqa: E402

DEV_IMAGES = ROOT.parent / "shared" / "dev-images"
CALIBRATION = ROOT / "vigil" / "detectors" / "calibration"
CALIBRATION_SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "cat", "hubble_deep_field")
# dev-images' manifest label -> the detector label its positives should get.
POSITIVES = {
    "weapons": "Weapons",
    "alcohol": "Alcoholic Beverages",
    "gambling": "Gambling",
}
THRESHOLDS = (25.0, 50.0, 75.0, 90.0)


@dataclass(frozen=True)
class Photo:
    path: str
    label: str
    synset: str | None  # the ImageNet class, for photos named after one

    @property
    def hard_negative(self) -> bool:
        return self.path.startswith("positives/") and self.label == "safe"


@dataclass
class Run:
    probabilities: np.ndarray  # (n, 1000)
    confidences: dict[str, np.ndarray]  # label -> (n,)
    ms_per_image: float


def photos() -> list[Photo]:
    with (DEV_IMAGES / "manifest.csv").open() as file:
        rows = list(csv.DictReader(file))
    known = set(SYNSETS)
    found: list[Photo] = []
    for row in rows:
        match = re.search(r"n\d{8}", Path(row["path"]).name)
        synset = match.group(0) if match and match.group(0) in known else None
        found.append(Photo(row["path"], row["label"], synset))
    return found


def decoded(image: Image.Image) -> DecodedImage:
    pixels = image.convert("RGB")
    return DecodedImage(pixels, "jpeg", "image/jpeg", pixels.width, pixels.height, 0)


def load(paths: Sequence[Path]) -> list[DecodedImage]:
    images: list[DecodedImage] = []
    for path in paths:
        with Image.open(path) as opened:
            images.append(decoded(opened))
    return images


def generated(count: int, seed: int) -> list[DecodedImage]:
    """Random crops, resizes and flips of scikit-image's sample photos."""
    rng = np.random.default_rng(seed)
    sources = [
        Image.fromarray(getattr(data, name)()).convert("RGB") for name in CALIBRATION_SOURCES
    ]
    images: list[DecodedImage] = []
    for _ in range(count):
        photo = sources[int(rng.integers(len(sources)))]
        w = int(photo.width * rng.uniform(0.4, 1.0))
        h = int(photo.height * rng.uniform(0.4, 1.0))
        left = int(rng.integers(0, photo.width - w + 1))
        top = int(rng.integers(0, photo.height - h + 1))
        image = photo.crop((left, top, left + w, top + h))
        if rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        images.append(decoded(image))
    return images


def write_calibration(variant: str) -> None:
    source = effnet.converted_model(effnet.VARIANTS[variant])
    size = effnet.VARIANTS[variant].size
    batches = [preprocess(image.pixels, size)[None] for image in generated(64, seed=11)]
    table = CALIBRATION / f"objects-{variant}.json"
    write_table(source, batches, table)
    print(f"calibration table written to {table} ({table.stat().st_size} bytes)")


def run(detector: ObjectsDetector, images: Sequence[DecodedImage]) -> Run:
    detector.load()
    detector.probabilities(images[:8])  # warm-up
    rows: list[np.ndarray] = []
    timings: list[float] = []
    for start in range(0, len(images), 8):
        batch = images[start : start + 8]
        began = time.perf_counter()
        rows.append(detector.probabilities(batch))
        timings.append((time.perf_counter() - began) * 1000 / len(batch))
    probabilities = np.concatenate(rows)
    return Run(probabilities, label_confidences(probabilities), statistics.median(timings))


def band(policy: Policy, label: str) -> Band | None:
    for name in (label, *taxonomy.ancestors(label)):
        if name in policy.bands:
            return policy.bands[name]
    return None


def report_labels(found: Run, items: Sequence[Photo], policy: Policy) -> None:
    everyday = [i for i, p in enumerate(items) if p.label == "safe" and not p.hard_negative]
    hard = [i for i, p in enumerate(items) if p.hard_negative]
    print(
        f"  safe photos at or above {'/'.join(f'{t:g}' for t in THRESHOLDS)}: "
        f"{len(everyday)} everyday | {len(hard)} hard negatives (juice, water)"
    )
    for label, values in found.confidences.items():
        counts = "/".join(str(int((values[everyday] >= t).sum())) for t in THRESHOLDS)
        hard_counts = "/".join(str(int((values[hard] >= t).sum())) for t in THRESHOLDS)
        flagged = [
            f"{Path(items[i].path).stem} {values[i]:.0f}"
            for i in everyday + hard
            if values[i] >= 50
        ]
        line = f"  {label:<38} {counts:>9} | {hard_counts:>7}"
        print(line + (f"   ({', '.join(flagged)})" if flagged else ""))
    for kind, label in POSITIVES.items():
        rows = [
            i for i, p in enumerate(items) if p.label == kind and p.path.startswith("positives/")
        ]
        values = found.confidences[label][rows]
        print(
            f"  recall {label:<20} {int((values >= 50).sum())}/{len(rows)} at 50, "
            f"{_at_review(values, band(policy, label))}"
            f"  (confidences {', '.join(f'{v:.0f}' for v in sorted(values))})"
        )


def report_unmapped(found: Run, items: Sequence[Photo]) -> None:
    """Everyday photos the dev set marks as worth noticing, though no label maps their class
    (military uniform, projectile, warplane...): their highest label, for the record."""
    for i, p in enumerate(items):
        if p.path.startswith("everyday/") and p.label != "safe":
            label = max(found.confidences, key=lambda name: float(found.confidences[name][i]))
            value = float(found.confidences[label][i])
            print(f"  unmapped {p.label:<19} {Path(p.path).stem:<32} {label} {value:.1f}")


def _at_review(values: np.ndarray, governing: Band | None) -> str:
    if governing is None or governing.ignore or governing.review is None:
        return "the default policy ignores it"
    hits = int((values >= governing.review).sum())
    return f"{hits}/{len(values)} at the default review band {governing.review:g}"


def report_accuracy(found: Run, items: Sequence[Photo]) -> None:
    rows = [(i, SYNSETS.index(p.synset)) for i, p in enumerate(items) if p.synset]
    order = np.argsort(-found.probabilities[[i for i, _ in rows]], axis=1)
    top1 = sum(int(order[n, 0] == k) for n, (_, k) in enumerate(rows))
    top5 = sum(int(k in order[n, :5]) for n, (_, k) in enumerate(rows))
    print(
        f"  ImageNet accuracy on {len(rows)} photos: top-1 {100 * top1 / len(rows):.1f}%, "
        f"top-5 {100 * top5 / len(rows):.1f}%"
    )


def compare(full: Run, small: Run, policy: Policy) -> None:
    same = total = 0
    differences: list[float] = []
    for label, values in full.confidences.items():
        governing = band(policy, label)
        other = small.confidences[label]
        differences.extend(np.abs(values - other).tolist())
        if governing is not None:
            total += len(values)
            same += sum(
                governing.action_for(float(a)) == governing.action_for(float(b))
                for a, b in zip(values, other, strict=True)
            )
    top1 = np.mean(full.probabilities.argmax(1) == small.probabilities.argmax(1))
    print(
        f"  int8 vs fp32: band agreement {100 * same / max(total, 1):.2f}% of {total} "
        f"(photo, label) pairs, top-1 class agreement {100 * top1:.1f}%, confidence difference "
        f"median {statistics.median(differences):.3f} max {max(differences):.2f} points"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="lite0", choices=sorted(effnet.VARIANTS))
    parser.add_argument("--precisions", default="fp32,int8")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--write-calibration", action="store_true")
    args = parser.parse_args()
    if args.write_calibration:
        write_calibration(args.variant)
    policy = PolicyStore().get("default")
    if DEV_IMAGES.is_dir():
        items = photos()
        images = load([DEV_IMAGES / p.path for p in items])
        print(f"{len(images)} photos from {DEV_IMAGES}")
    else:
        items = []
        images = generated(96, seed=5)
        print(
            f"{DEV_IMAGES} is absent: no false-alarm, recall or accuracy figures; speed is "
            f"measured on {len(images)} generated images"
        )
    runs: dict[str, Run] = {}
    for precision in args.precisions.split(","):
        detector = ObjectsDetector(args.threads, args.variant, precision)
        found = runs[precision] = run(detector, images)
        print(f"{args.variant} {precision}: {found.ms_per_image:.1f} ms/image")
        if items:
            report_labels(found, items, policy)
            report_unmapped(found, items)
            report_accuracy(found, items)
    if "fp32" in runs and "int8" in runs:
        compare(runs["fp32"], runs["int8"], policy)


if __name__ == "__main__":
    main()
