"""Train the ``symbols`` detector's shape classifier (vigil/detectors/symbols/classifier.npz).

The training set is what the detector itself looks at: every candidate region that
``vigil.detectors.symbols.candidates`` finds in busy composites of recipe ``a`` and in
symbol-free pictures (ordinary graphics, clutter, photos and textures with distractors), all
from ``scripts/symbols_generate.py``. A candidate whose pixels overlap a drawn symbol's (as
drawn, or filled in for an outline) with an IoU of at least 0.6 takes its class, and four
squeezed, sheared, thinned or thickened copies of it are added; one that overlaps a symbol by
0.2 or more (half a rune pair, a symbol merged with its surroundings, a ring without its
cross) is left out; the rest are "other". The classifier, a numpy perceptron trained with
Adam, is trained twice: the second time with the first one's mistakes on fresh symbol-free
pictures (hard negatives) weighted up. Last, per-symbol thresholds are set so that at most 1
% of another set of symbol-free pictures fire. Nothing beyond vigil's own dependencies is
needed (scikit-image adds sample photos when installed).

    python scripts/symbols_train.py            # about 10 minutes on two busy cores

The seeds are fixed, so a run reproduces the shipped weights up to floating-point summation
order. One composite in seven is held back, never trained on, and reported.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import symbols_generate as generate

from vigil.detectors.symbols.candidates import Candidate, candidates
from vigil.detectors.symbols.detector import PAIRED
from vigil.detectors.symbols.features import features
from vigil.detectors.symbols.model import CLASSES, Classifier

OUTPUT = Path(__file__).resolve().parent.parent / "vigil/detectors/symbols/classifier.npz"
POSITIVE_IOU = 0.6
IGNORED_IOU = 0.2
HIDDEN = (64, 32)
MINED_FROM = 0.2  # a symbol-free candidate scored this high is a hard negative
MINED_WEIGHT = 3  # each counted this many times in the second round
FALSE_PICTURES = 0.01  # thresholds let this share of symbol-free pictures through
AUGMENTED = 4  # variants of each symbol candidate added to the training set


@dataclass
class Dataset:
    features: np.ndarray
    labels: np.ndarray  # class index, -1: left out
    groups: np.ndarray  # which picture each candidate came from

    def usable(self) -> Dataset:
        keep = self.labels >= 0
        return Dataset(self.features[keep], self.labels[keep], self.groups[keep])


def iou(a: generate.Box, b: generate.Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return inter / max(1e-9, aw * ah + bw * bh - inter)


def mask_iou(candidate: Candidate, box: generate.Box, placed: generate.Placed) -> float:
    """IoU of the candidate's pixels and the symbol's (inked or filled, the better), both in
    picture pixels; ``box`` is the candidate's box in picture pixels."""
    x, y = round(box[0]), round(box[1])
    w, h = max(1, round(box[2])), max(1, round(box[3]))
    ink = cv2.resize(candidate.mask, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    px, py = (int(v) for v in placed.box[:2])
    best = 0.0
    for symbol in (placed.ink, placed.filled):
        sh, sw = symbol.shape
        x0, y0 = max(x, px), max(y, py)
        x1, y1 = min(x + w, px + sw), min(y + h, py + sh)
        inter = 0
        if x1 > x0 and y1 > y0:
            inter = int(
                (
                    ink[y0 - y : y1 - y, x0 - x : x1 - x]
                    & symbol[y0 - py : y1 - py, x0 - px : x1 - px]
                ).sum()
            )
        union = int(ink.sum()) + int(symbol.sum()) - inter
        best = max(best, inter / max(1, union))
    return best


def label_candidates(
    found: list[Candidate],
    fine: tuple[int, int],
    size: tuple[int, int],
    symbols: list[generate.Placed],
) -> np.ndarray:
    """Each candidate's class index (-1: left out) from its overlap with the drawn symbols:
    the symbol's class where their pixels overlap with an IoU of POSITIVE_IOU or more, left
    out where their pixels or boxes overlap by IGNORED_IOU or more, "other" elsewhere."""
    labels = np.zeros(len(found), np.int64)
    for i, candidate in enumerate(found):
        left, top, width, height = candidate.box(*fine)
        box = (left * size[0], top * size[1], width * size[0], height * size[1])
        for placed in symbols:
            if iou(box, placed.box) < IGNORED_IOU / 2:
                continue
            pixels = mask_iou(candidate, box, placed)
            # The runes are two components, every other symbol one (the detector asks no more).
            fits = candidate.pair == (placed.kind in PAIRED)
            if pixels >= POSITIVE_IOU and fits:
                labels[i] = CLASSES.index(placed.kind)
                break
            if max(pixels, iou(box, placed.box)) >= IGNORED_IOU:
                labels[i] = -1
    return labels


def augmented(rng: np.random.Generator, candidate: Candidate) -> list[Candidate]:
    """AUGMENTED variants of a symbol's candidate: its mask squeezed, sheared and turned
    (no perspective: recipe b keeps that for itself), strokes a pixel thinner or thicker,
    the tone a little weaker or stronger. The symbols' classes are a few per cent of the
    candidates; this multiplies their examples cheaply."""
    variants = []
    for _ in range(AUGMENTED):
        mask = candidate.mask
        h, w = mask.shape
        big = cv2.resize(mask * 255, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
        a = rng.uniform(0, 2 * np.pi)
        turn = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        squeeze = np.array([[rng.uniform(0.85, 1.15), rng.uniform(-0.15, 0.15)], [0, 1.0]])
        linear = turn @ squeeze
        corners = np.array([[0, 0], [2 * w, 0], [0, 2 * h], [2 * w, 2 * h]], np.float64) @ linear.T
        low, high = corners.min(axis=0), corners.max(axis=0)
        matrix = np.hstack([linear, -low[:, None]])
        size = (int(np.ceil(high[0] - low[0])), int(np.ceil(high[1] - low[1])))
        warped = cv2.warpAffine(big, matrix, size, flags=cv2.INTER_LINEAR)
        shrunk = cv2.resize(
            warped, (max(1, size[0] // 2), max(1, size[1] // 2)), interpolation=cv2.INTER_AREA
        )
        threshold = rng.uniform(90, 165)  # moves the edges by about a third of a pixel
        out: np.ndarray = (shrunk > threshold).astype(np.uint8)
        change = rng.random()
        if change < 0.2 and min(out.shape) >= 30:
            out = cv2.erode(out, np.ones((2, 2), np.uint8))
        elif change < 0.4:
            out = cv2.dilate(out, np.ones((2, 2), np.uint8))
        ys, xs = np.nonzero(out)
        if len(xs) < 10:
            out, ys, xs = mask, *np.nonzero(mask)
        out = np.ascontiguousarray(out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
        contrast, inside, ring = candidate.tone
        tone = (
            contrast * rng.uniform(0.8, 1.2),
            inside * rng.uniform(0.8, 1.3),
            ring * rng.uniform(0.8, 1.3),
        )
        variants.append(replace(candidate, mask=out, tone=tone))
    return variants


def picture(rng: np.random.Generator, kind: str) -> tuple[np.ndarray, list[generate.Placed]]:
    """One training picture: a busy composite of recipe a, an ordinary graphic, clutter, or
    a composite without symbols (photos and textures with distractors)."""
    if kind == "composite":
        made = generate.composite(rng, "a", busy=True)
        return made.image, made.symbols
    if kind == "graphic":
        return generate.ordinary_graphic(rng, str(rng.choice(generate.GRAPHICS))), []
    if kind == "clutter":
        return generate.clutter(rng), []
    return generate.composite(rng, "a", kinds=[], busy=True).image, []


def plan(composites: int, negatives: int) -> list[str]:
    """The kinds of picture to draw: the composites, then negatives split between ordinary
    graphics (a quarter), clutter (half) and symbol-free composites (a quarter)."""
    kinds = ["composite"] * composites
    for i in range(negatives):
        kinds.append(("graphic", "clutter", "clutter", "blank")[i % 4])
    return kinds


def collect(kinds: list[str], seed: int) -> Dataset:
    """The labelled candidates (and augmented symbol variants) of pictures of ``kinds``."""
    rng = np.random.default_rng(seed)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    started = time.monotonic()
    for i, kind in enumerate(kinds):
        pixels, symbols = picture(rng, kind)
        image = Image.fromarray(pixels)
        found, fine = candidates(image)
        labels = label_candidates(found, fine, image.size, symbols)
        extra = [
            variant
            for candidate, label in zip(found, labels, strict=True)
            if label > 0
            for variant in augmented(rng, candidate)
        ]
        extra_labels = np.repeat(labels[labels > 0], AUGMENTED)
        parts.append((features(found + extra), np.concatenate([labels, extra_labels])))
        if i % 250 == 0:
            print(f"  {i}/{len(kinds)} pictures, {time.monotonic() - started:.0f} s", flush=True)
    groups = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
    return Dataset(
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]).astype(np.int64),
        groups,
    )


def negative_scores(
    model: Classifier, count: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, symbol-class probabilities and picture numbers of every candidate in
    ``count`` fresh symbol-free pictures."""
    rng = np.random.default_rng(seed)
    rows, probabilities, pictures = [], [], []
    for i, kind in enumerate(plan(0, count)):
        found, _ = candidates(Image.fromarray(picture(rng, kind)[0]))
        if not found:
            continue
        values = features(found)
        rows.append(values)
        probabilities.append(model.probabilities(values)[:, 1:])
        pictures.append(np.full(len(found), i))
    return np.concatenate(rows), np.concatenate(probabilities), np.concatenate(pictures)


def mine(model: Classifier, count: int, seed: int) -> np.ndarray:
    """Hard negatives: candidates of fresh symbol-free pictures that ``model`` gives any
    symbol class a probability of MINED_FROM or more."""
    rows, probabilities, _ = negative_scores(model, count, seed)
    hard: np.ndarray = rows[probabilities.max(axis=1) >= MINED_FROM]
    print(f"  mined {len(hard)} hard negatives from {count} pictures")
    return hard


def thresholds(model: Classifier, count: int, seed: int) -> np.ndarray:
    """Per symbol class, the least probability that at most one in a hundred of ``count``
    fresh symbol-free pictures reaches with some candidate (never below 0.5)."""
    _, probabilities, pictures = negative_scores(model, count, seed)
    chosen = []
    for k in range(probabilities.shape[1]):
        best = np.zeros(count)
        np.maximum.at(best, pictures, probabilities[:, k])
        chosen.append(max(0.5, float(np.quantile(best, 1 - FALSE_PICTURES))))
    return np.array(chosen, np.float32)


def initial(rng: np.random.Generator, data: np.ndarray) -> Classifier:
    mean = data.mean(axis=0)
    scale = data.std(axis=0) + 1e-3
    sizes = [data.shape[1], *HIDDEN, len(CLASSES)]
    weights = tuple(
        (rng.normal(0, np.sqrt(2.0 / m), (m, n))).astype(np.float32)
        for m, n in itertools.pairwise(sizes)
    )
    biases = tuple(np.zeros(n, np.float32) for n in sizes[1:])
    return Classifier(mean.astype(np.float32), scale.astype(np.float32), weights, biases)


def train(data: Dataset, epochs: int, seed: int) -> Classifier:
    """Adam on class-weighted cross-entropy with weight decay, minibatches of 256."""
    rng = np.random.default_rng(seed)
    model = initial(rng, data.features)
    params = [*model.weights, *model.biases]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    counts = np.bincount(data.labels, minlength=len(CLASSES)).astype(np.float64)
    # Symbols are rare among candidates; weighting them up (not all the way to balance)
    # keeps recall without letting the many "other" shapes go unlearnt.
    class_weight = (counts.max() / np.maximum(counts, 1)) ** 0.5
    step, rate, decay = 0, 2e-3, 1e-4
    n = len(data.labels)
    for epoch in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, 256):
            batch = order[start : start + 256]
            grads = _gradients(model, data.features[batch], data.labels[batch], class_weight)
            step += 1
            lr = rate * (0.5 * (1 + np.cos(np.pi * epoch / epochs)))
            for p, g, m, v in zip(params, grads, moments, squares, strict=True):
                g = g + decay * p
                m *= 0.9
                m += 0.1 * g
                v *= 0.999
                v += 0.001 * g * g
                p -= lr * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return model


def _gradients(
    model: Classifier, x: np.ndarray, y: np.ndarray, class_weight: np.ndarray
) -> list[np.ndarray]:
    layers = model.hidden(x)
    logits = layers[-1]
    logits = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    w = class_weight[y][:, None]
    delta = p.copy()
    delta[np.arange(len(y)), y] -= 1.0
    delta *= w / w.sum()
    grads_w: list[np.ndarray] = []
    grads_b: list[np.ndarray] = []
    for i in range(len(model.weights) - 1, -1, -1):
        grads_w.insert(0, (layers[i].T @ delta).astype(np.float32))
        grads_b.insert(0, delta.sum(axis=0).astype(np.float32))
        if i > 0:
            delta = (delta @ model.weights[i].T) * (layers[i] > 0)
    return [*grads_w, *grads_b]


def report(model: Classifier, data: Dataset, title: str, per_class: bool = False) -> None:
    """Precision and recall per class on ``data`` at fixed thresholds, or (``per_class``)
    at the model's own."""
    p = model.probabilities(data.features)
    print(f"{title}: {len(data.labels)} candidates")
    cuts = [model.thresholds] if per_class else [np.full(len(CLASSES) - 1, t) for t in (0.5, 0.9)]
    for cut in cuts:
        passed = p[:, 1:] >= cut[None, :]
        scores = np.where(passed, p[:, 1:], 0.0)
        predicted = np.where(passed.any(axis=1), scores.argmax(axis=1) + 1, 0)
        row = []
        for c in range(1, len(CLASSES)):
            tp = int(((predicted == c) & (data.labels == c)).sum())
            fp = int(((predicted == c) & (data.labels != c)).sum())
            fn = int(((predicted != c) & (data.labels == c)).sum())
            row.append(
                f"{CLASSES[c]} P {tp / max(1, tp + fp):.3f} R {tp / max(1, tp + fn):.3f} (fp {fp})"
            )
        label = "own" if per_class else f"{cut[0]}"
        print(f"  >= {label}: " + "; ".join(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--composites", type=int, default=2400)
    parser.add_argument("--negatives", type=int, default=1000, help="symbol-free pictures")
    parser.add_argument("--mine", type=int, default=800, help="pictures for hard negatives")
    parser.add_argument("--calibrate", type=int, default=400, help="pictures for thresholds")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--cache", type=Path, help="keep the candidates' features here")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        with np.load(args.cache) as cached:
            data = Dataset(cached["features"], cached["labels"].astype(np.int64), cached["groups"])
    else:
        data = collect(plan(args.composites, args.negatives), args.seed)
        if args.cache:
            np.savez(args.cache, features=data.features, labels=data.labels, groups=data.groups)
    print(
        "candidates per class:",
        dict(zip(("ignored", *CLASSES), np.bincount(data.labels + 1).tolist(), strict=False)),
    )
    # One picture in seven is held back to check the fit; the saved model never saw them.
    held = data.groups % 7 == 0
    fit = Dataset(data.features[~held], data.labels[~held], data.groups[~held]).usable()
    check = Dataset(data.features[held], data.labels[held], data.groups[held]).usable()
    first = train(fit, args.epochs, args.seed)
    report(first, check, "held-back pictures, first round")
    # Second round: the first model's mistakes on fresh symbol-free pictures, weighted up.
    hard = np.repeat(mine(first, args.mine, args.seed + 1), MINED_WEIGHT, axis=0)
    fit = Dataset(
        np.concatenate([fit.features, hard]),
        np.concatenate([fit.labels, np.zeros(len(hard), np.int64)]),
        np.concatenate([fit.groups, np.full(len(hard), -1)]),
    )
    model = train(fit, args.epochs, args.seed)
    report(model, check, "held-back pictures, second round")
    model = replace(model, thresholds=thresholds(model, args.calibrate, args.seed + 2))
    print(
        "thresholds:", dict(zip(CLASSES[1:], np.round(model.thresholds, 4).tolist(), strict=True))
    )
    report(model, check, "held-back pictures at those thresholds", per_class=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"saved {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
