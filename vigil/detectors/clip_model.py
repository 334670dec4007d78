"""A CLIP/SigLIP-style model bundle in a models directory: an image tower exported to ONNX and
text embeddings computed ahead of time for the prompts it will be asked about.

Layout of ``MODELS_DIR/NAME/`` (docs/clip.md):

- ``image.onnx``: float32 ``[N, 3, S, S]`` (normalised RGB) to an ``[N, D]`` embedding;
- ``prompts.json``: a JSON list of prompts; row ``i`` of ``text_embeddings.npy`` (float32
  ``[P, D]``) is the text embedding of prompt ``i``;
- ``config.json`` (optional): ``image_size``, ``mean``, ``std``, ``logit_scale``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image

from vigil.detectors.onnx import create_session, normalise, require, run_batch
from vigil.errors import DetectorFailed

REQUIRED = ("image.onnx", "prompts.json", "text_embeddings.npy")
# OpenAI CLIP's preprocessing and learnt logit scale (exp(4.6052) = 100).
_DEFAULTS: dict[str, Any] = {
    "image_size": 224,
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
    "logit_scale": 100.0,
}


@dataclass(frozen=True)
class ClipConfig:
    image_size: int
    mean: np.ndarray
    std: np.ndarray
    logit_scale: float


def read_config(directory: Path) -> ClipConfig:
    path = directory / "config.json"
    values = dict(_DEFAULTS)
    if path.is_file():
        values.update(_read_json(path))
    return ClipConfig(
        image_size=int(values["image_size"]),
        mean=np.asarray(values["mean"], dtype=np.float32).reshape(3, 1, 1),
        std=np.asarray(values["std"], dtype=np.float32).reshape(3, 1, 1),
        logit_scale=float(values["logit_scale"]),
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DetectorFailed(f"Could not read {path}: {exc}") from exc


def missing_files(directory: Path) -> list[str]:
    return [name for name in REQUIRED if not (directory / name).is_file()]


def read_text_embeddings(directory: Path) -> dict[str, np.ndarray]:
    """Prompt to unit-length text embedding, from ``prompts.json`` and ``text_embeddings.npy``."""
    prompts = _read_json(directory / "prompts.json")
    try:
        table = np.load(directory / "text_embeddings.npy", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DetectorFailed(f"Could not read {directory / 'text_embeddings.npy'}: {exc}") from exc
    if not isinstance(prompts, list) or table.ndim != 2 or len(prompts) != len(table):
        raise DetectorFailed(
            f"{directory}: prompts.json must be a list with one entry per row of "
            f"text_embeddings.npy (got {len(prompts) if isinstance(prompts, list) else '?'} "
            f"prompts, array of shape {table.shape})."
        )
    rows = normalise(table.astype(np.float32))
    return {str(prompt): rows[i] for i, prompt in enumerate(prompts)}


class ClipModel:
    """The image tower of one model bundle, plus its stored text embeddings."""

    def __init__(self, directory: Path, detector: str, threads: int) -> None:
        self.directory = directory
        self.detector = detector
        self.threads = threads
        self.text: dict[str, np.ndarray] = {}
        self.config = ClipConfig(224, np.zeros((3, 1, 1)), np.ones((3, 1, 1)), 100.0)
        self._session: ort.InferenceSession | None = None

    def load(self) -> None:
        missing = missing_files(self.directory)
        if missing:
            raise DetectorFailed(
                f"CLIP model files {', '.join(missing)} are missing from {self.directory}; "
                f"download the model with `vigil models pull {self.directory.name}` "
                "(needs internet) or copy its folder there (docs/clip.md)."
            )
        self.config = read_config(self.directory)
        self.text = read_text_embeddings(self.directory)
        self._session = create_session(self.directory / "image.onnx", self.threads)

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """CLIP's: shorter side to ``image_size`` (bicubic), centre crop, scale, normalise."""
        size = self.config.image_size
        scale = size / min(image.size)
        width, height = (
            max(size, round(image.width * scale)),
            max(size, round(image.height * scale)),
        )
        resized = image.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=3.0)
        left, top = (width - size) // 2, (height - size) // 2
        crop = resized.crop((left, top, left + size, top + size))
        pixels = np.asarray(crop, dtype=np.float32).transpose(2, 0, 1) / 255.0
        return np.asarray((pixels - self.config.mean) / self.config.std, dtype=np.float32)

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Unit-length image embeddings ``[N, D]`` from one run over the batch."""
        batch = np.stack([self.preprocess(image) for image in images])
        session = require(self._session, self.detector)
        return normalise(run_batch(session, batch, self.detector))
