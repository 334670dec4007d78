"""Write a labelled evaluation set for the text detector (docs/evaluation.md): generated images
with lines of text on photos, gradients and flat colours, half of them carrying a term from the
default lists (labelled with its label: ``Drug Sales``, ``Profanity``, ...), the rest innocent
text or no text at all (labelled ``safe``); the same generator as ``text_gate.py``, another seed.
Then run ``vigil eval DIR/manifest.csv --policy strict`` (a policy that acts on Offensive Text).

Run: .venv/bin/python benchmarks/eval_text_samples.py DIR [--text 80] [--plain 20]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from text_gate import samples  # this directory's gate benchmark: the same images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--text", type=int, default=80)
    parser.add_argument("--plain", type=int, default=20)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    rows = ["path,label"]
    for index, sample in enumerate(samples(args.text, args.plain, args.seed)):
        name = f"{index:03d}.png"
        sample.image.save(args.folder / name)
        rows.append(f"{name},{sample.label or 'safe'}")
    (args.folder / "manifest.csv").write_text("\n".join(rows) + "\n")
    print(f"wrote {len(rows) - 1} images and {args.folder / 'manifest.csv'}")


if __name__ == "__main__":
    main()
