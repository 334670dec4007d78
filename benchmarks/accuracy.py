"""Flagged and blocked shares per category, under `default` and `strict`, before and after fusion.

The detectors run once per image (every enabled detector, on-demand ones included); labels are
then built with and without fusion and each policy decides on them, so the four columns come
from the same detections. Image sets:

- ``../shared/dev-images`` when it is beside the repository (it is not in users' clones; the
  script says so and goes on without it): ``everyday/`` (876 ImageNet sample photos, nearly all
  ``safe``) and ``positives/`` (weapons, beer, a slot machine, juice and water), grouped by the
  manifest's ``label`` column;
- generated positives, made here: hateful slogans written across scikit-image photos
  (``text:hate``), and swastika and SS-rune memes from ``scripts/symbols_generate.py``'s
  held-out recipe (``symbols:nazi``); generated negatives with ordinary words (``text:safe``).

For each set it prints, per policy and fusion setting, the share of images flagged (review or
block) and blocked, and which top-level categories did it.

Run: .venv/bin/python benchmarks/accuracy.py [--limit N] [--batch 8]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from skimage import data

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from vigil import taxonomy  # noqa: E402
from vigil.detectors.base import Detection  # noqa: E402
from vigil.errors import VigilError  # noqa: E402
from vigil.labels import build_labels  # noqa: E402
from vigil.media.image import DecodedImage  # noqa: E402
from vigil.policy.context import resolve_context  # noqa: E402
from vigil.policy.evaluate import evaluate  # noqa: E402
from vigil.policy.loader import PolicyStore  # noqa: E402
from vigil.service.engine.fusion import fuse  # noqa: E402
from vigil.service.engine.moderation import ModerationEngine  # noqa: E402
from vigil.settings import Settings  # noqa: E402

DEV_IMAGES = ROOT.parent / "shared" / "dev-images"
POLICIES = ("default", "strict")
HATE = ("SIEG HEIL", "GAS THE JEWS", "WHITE POWER", "HEIL HITLER", "14 WORDS", "KILL ALL JEWS")
SAFE_WORDS = ("HAPPY BIRTHDAY", "SALE 50% OFF", "GOOD MORNING", "OPEN DAILY", "I LOVE CATS")
PHOTOS = ("astronaut", "chelsea", "coffee", "camera", "rocket", "immunohistochemistry")


@dataclass
class Tally:
    images: int = 0
    flagged: int = 0
    blocked: int = 0
    categories: Counter[str] = field(default_factory=Counter)

    def add(self, action: str, label: str | None) -> None:
        self.images += 1
        if action == "allow":
            return
        self.flagged += 1
        self.blocked += action == "block"
        if label and taxonomy.is_label(label):
            self.categories[f"{taxonomy.top_level(label)}:{action}"] += 1

    def line(self) -> str:
        share = (lambda n: n / self.images) if self.images else (lambda n: 0.0)
        top = ", ".join(f"{name} {count}" for name, count in self.categories.most_common(6))
        return (
            f"flagged {share(self.flagged):.3f} ({self.flagged}/{self.images})  "
            f"blocked {share(self.blocked):.3f} ({self.blocked})  [{top}]"
        )


def dev_images(limit: int | None) -> Iterator[tuple[str, bytes]]:
    manifest = DEV_IMAGES / "manifest.csv"
    if not manifest.is_file():
        print(f"{DEV_IMAGES} is not here: only the generated sets are measured", flush=True)
        return
    with manifest.open() as handle:
        rows = list(csv.DictReader(handle))
    for row in rows[:limit] if limit else rows:
        folder = row["path"].split("/")[0]
        yield f"dev:{folder}:{row['label']}", (DEV_IMAGES / row["path"]).read_bytes()


def slogans(words: tuple[str, ...], group: str, seed: int) -> Iterator[tuple[str, bytes]]:
    """Words written across photos in a few sizes, colours and positions, as memes do."""
    rng = np.random.default_rng(seed)
    for index, text in enumerate(words * 3):
        photo = Image.fromarray(getattr(data, PHOTOS[index % len(PHOTOS)])()).convert("RGB")
        photo = photo.resize((640, int(640 * photo.height / photo.width)))
        draw = ImageDraw.Draw(photo)
        size = int(rng.integers(36, 72))
        font = ImageFont.load_default(size=size)
        top = int(rng.integers(10, max(11, photo.height - size - 10)))
        fill = tuple(int(v) for v in rng.choice([0, 255], 3))
        outline = tuple(255 - v for v in fill)
        draw.text((20, top), text, font=font, fill=fill, stroke_width=3, stroke_fill=outline)
        yield group, _jpeg(photo)


def symbols(count: int) -> Iterator[tuple[str, bytes]]:
    """Held-out composites (recipe B) holding a Nazi symbol, from the symbols generator."""
    try:
        import symbols_generate
    except ImportError:
        print("scripts/symbols_generate.py is missing: no symbol composites", flush=True)
        return
    rng = np.random.default_rng(7)
    for _ in range(count):
        kind = str(rng.choice(["swastika", "sig_runes"]))
        composite = symbols_generate.composite(rng, "b", kinds=[kind])
        yield "gen:symbols:nazi", _jpeg(Image.fromarray(composite.image))


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


Tallies = dict[tuple[str, str, bool], Tally]


def measure(engine: ModerationEngine, items: list[tuple[str, bytes]], batch: int) -> Tallies:
    store = PolicyStore()
    policies = {name: store.get(name) for name in POLICIES}
    contexts = {
        name: resolve_context(policy, {}, datetime.now(UTC)) for name, policy in policies.items()
    }
    tallies: Tallies = defaultdict(Tally)
    ran = {detector.name for detector in engine.detectors}
    for start in range(0, len(items), batch):
        decoded = [(item, _decoded(engine, item)) for item in items[start : start + batch]]
        chunk = [item for item, image in decoded if image is not None]
        found = engine.detect([image for _, image in decoded if image is not None])
        for (group, payload), detections in zip(chunk, found, strict=True):
            key = hashlib.sha256(payload).hexdigest()
            for fused in (False, True):
                labels = build_labels(_labels_input(detections, ran, fused))
                for name, policy in policies.items():
                    decision = evaluate(labels, policy, context=contexts[name], sample_key=key)
                    tallies[(group, name, fused)].add(decision.action, decision.label)
        print(f"  {min(start + batch, len(items))}/{len(items)} images", end="\r", flush=True)
    print()
    return tallies


def _decoded(engine: ModerationEngine, item: tuple[str, bytes]) -> DecodedImage | None:
    """The decoded image, or None when vigil refuses it (a few sample photos are under the
    80-pixel minimum): refusals are printed and left out of the shares."""
    try:
        return engine.decode(item[1])
    except VigilError as refusal:
        print(f"  refused ({refusal.code}) in {item[0]}", flush=True)
        return None


def _labels_input(detections: list[Detection], ran: set[str], fused: bool) -> list[Detection]:
    return fuse(detections, ran, enabled=fused).detections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="dev-images rows to read")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--symbols", type=int, default=60, help="generated symbol memes")
    args = parser.parse_args()
    items = [
        *dev_images(args.limit),
        *slogans(HATE, "gen:text:hate", 1),
        *slogans(SAFE_WORDS, "gen:text:safe", 2),
        *symbols(args.symbols),
    ]
    settings = Settings()
    engine = ModerationEngine(settings)
    engine.load()
    print(f"detectors: {', '.join(d.name for d in engine.detectors)}; {len(items)} images")
    tallies = measure(engine, items, args.batch)
    for group in sorted({group for group, _, _ in tallies}):
        print(f"\n{group}")
        for name in POLICIES:
            for fused in (False, True):
                shown = "after fusion " if fused else "before fusion"
                print(f"  {name:<8} {shown}  {tallies[(group, name, fused)].line()}")


if __name__ == "__main__":
    main()
