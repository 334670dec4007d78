"""Regenerate the fixtures of the objects detector's tests (tests/detectors/fixtures/):

- ``efficientnet_golden.json``: reference logits and pooled features of the PyTorch
  EfficientNet-Lite, which the ONNX graph vigil builds (vigil/detectors/objects/efficientnet.py)
  is tested against;
- ``tiny_legacy.pth`` and ``tiny_zip.pth`` (with ``tiny_pth.json``, their values): a small state
  dict in both layouts ``torch.save`` writes, for vigil/detectors/objects/torch_pickle.py's tests.

PyTorch is needed only here, to regenerate the fixtures, and never by vigil or its tests. Make a
throwaway environment outside the repository and point this script at its Python:

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch==2.13.0 efficientnet-lite-pytorch numpy
    .venv/bin/python scripts/efficientnet_golden.py --torch-python /tmp/torchenv/bin/python

The script runs in vigil's environment (scikit-image's sample photos, the weights packages) and
calls the torch environment for the rest. Inputs are made with numpy alone (a centred square,
nearest-neighbour resized: ``golden_input``), so the fixture does not change when vigil's own
preprocessing does; the tests rebuild the same inputs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "detectors" / "fixtures"
GOLDEN = FIXTURES / "efficientnet_golden.json"
PHOTOS = {
    "lite0": ("coffee", "chelsea", "astronaut", "rocket"),
    "lite1": ("chelsea",),
    "lite2": ("coffee",),
}
TOP = 10
EMBEDDING_VALUES = 8


def golden_input(photo: np.ndarray, size: int) -> np.ndarray:
    """(3, size, size) float32 RGB 0-255: the centred square of ``photo``, nearest-neighbour
    resized. Plain index arithmetic, so every numpy gives the same pixels."""
    height, width = photo.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    index = np.arange(size) * side // size
    square = photo[top + index[:, None], left + index[None, :], :3]
    return np.ascontiguousarray(square.transpose(2, 0, 1), dtype=np.float32)


def reference(
    variant: str, weights: str, inputs: str, output: str, *, mean: float, std: float
) -> None:
    """Runs in the torch environment: the PyTorch port's logits and pooled features."""
    import torch  # type: ignore[import-not-found]
    from efficientnet_lite_pytorch import EfficientNet  # type: ignore[import-not-found]

    model = EfficientNet.from_pretrained(f"efficientnet-{variant}", weights_path=weights)
    model.eval()
    batch = torch.from_numpy((np.load(inputs) - mean) / std).float()
    with torch.no_grad():
        features = model.extract_features(batch)
        pooled = torch.nn.functional.adaptive_avg_pool2d(features, 1).flatten(1)
        logits = model(batch)
    np.savez(output, logits=logits.numpy(), embedding=pooled.numpy())


def tiny(folder: str) -> None:
    """Runs in the torch environment: a small module's state dict with a transposed view, a
    slice at an offset and a float16 tensor, saved in both layouts, and its values as JSON."""
    import torch

    torch.manual_seed(0)
    state = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1), torch.nn.BatchNorm2d(3)).state_dict()
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    state["transposed"] = base.t()
    state["slice"] = base[1:, 2:]
    state["half"] = torch.tensor([1.5, -2.0], dtype=torch.float16)
    torch.save(state, f"{folder}/tiny_zip.pth")
    torch.save(state, f"{folder}/tiny_legacy.pth", _use_new_zipfile_serialization=False)
    values = {
        name: {"shape": list(t.shape), "dtype": str(t.dtype), "values": t.flatten().tolist()}
        for name, t in state.items()
    }
    Path(f"{folder}/tiny_pth.json").write_text(_dumps(values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", help="the Python of an environment with torch")
    parser.add_argument("--reference", nargs=4, metavar=("VARIANT", "PTH", "IN", "OUT"))
    parser.add_argument("--tiny", metavar="FOLDER")
    parser.add_argument("--mean", type=float, default=0.0)
    parser.add_argument("--std", type=float, default=1.0)
    args = parser.parse_args()
    if args.reference:
        variant, weights, inputs, output = args.reference
        reference(variant, weights, inputs, output, mean=args.mean, std=args.std)
    elif args.tiny:
        tiny(args.tiny)
    elif args.torch_python:
        subprocess.run([args.torch_python, __file__, "--tiny", str(FIXTURES)], check=True)
        write_golden(args.torch_python)
    else:
        parser.error("--torch-python is required")


def write_golden(torch_python: str) -> None:
    sys.path.insert(0, str(ROOT))
    from skimage import data

    from vigil.detectors.objects.efficientnet import MEAN, STD, VARIANTS, weights_path

    fixture: dict[str, Any] = {
        "about": "Top logits of the PyTorch EfficientNet-Lite (efficientnet-lite-pytorch 0.1.0, "
        "torch 2.13.0) on scikit-image photos; made by scripts/efficientnet_golden.py.",
        "input": "centred square, nearest-neighbour resized (golden_input), RGB 0-255",
        "mean": MEAN,
        "std": STD,
        "variants": {},
    }
    with tempfile.TemporaryDirectory() as scratch:
        for name, photos in PHOTOS.items():
            size = VARIANTS[name].size
            batch = np.stack([golden_input(getattr(data, photo)(), size) for photo in photos])
            inputs, output = Path(scratch) / f"{name}.npy", Path(scratch) / f"{name}.npz"
            np.save(inputs, batch)
            command = [torch_python, __file__, "--mean", str(MEAN), "--std", str(STD)]
            pth = str(weights_path(VARIANTS[name]))
            subprocess.run(
                [*command, "--reference", name, pth, str(inputs), str(output)], check=True
            )
            found = np.load(output)
            fixture["variants"][name] = {
                photo: _entry(logits, embedding)
                for photo, logits, embedding in zip(
                    photos, found["logits"], found["embedding"], strict=True
                )
            }
    GOLDEN.write_text(_dumps(fixture))
    print(f"wrote {GOLDEN} and the tiny .pth fixtures")


def _entry(logits: np.ndarray, embedding: np.ndarray) -> dict[str, Any]:
    top = np.argsort(-logits)[:TOP]
    return {
        "top": [[int(i), round(float(logits[i]), 5)] for i in top],
        "embedding_first": [round(float(v), 5) for v in embedding[:EMBEDDING_VALUES]],
        "embedding_norm": round(float(np.linalg.norm(embedding)), 5),
    }


def _dumps(value: Any, depth: int = 0) -> str:
    """JSON with one line per innermost object, so diffs of a regenerated fixture are readable."""
    if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
        pad = " " * (depth + 1)
        items = [f"{pad}{json.dumps(k)}: {_dumps(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}" + ("\n" if depth == 0 else "")
    return json.dumps(value)


if __name__ == "__main__":
    main()
