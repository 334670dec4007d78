"""Zero-shot labels from a CLIP/SigLIP image tower: each taxonomy label's prompts against a
neutral prompt set, as a two-way softmax of scaled cosine similarities (docs/clip.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from vigil.detectors import clip_prompts
from vigil.detectors.base import Detection
from vigil.detectors.clip_model import ClipModel
from vigil.errors import DetectorFailed
from vigil.media.image import DecodedImage
from vigil.settings import load_settings

DEFAULT_MODEL = "clip-vit-b32"


def _models_dir(models_dir: str | None) -> Path:
    if models_dir:
        return Path(models_dir)  # the engine passes the VIGIL_MODELS_DIR setting
    return load_settings().resolved_models_dir  # built outside an engine


class ClipDetector:
    """Scores every label that has prompts, for every image (the policy filters later). A
    custom label outside the taxonomy is reported under the ``Custom`` top-level name."""

    name = "clip"
    licence = "that of the model in the models directory (CLIP ViT-B/32: MIT)"

    def __init__(
        self,
        threads: int = 0,
        model: str = DEFAULT_MODEL,
        models_dir: str | None = None,
        custom_labels: Mapping[str, str | list[str]] | None = None,
        neutral_prompts: list[str] | None = None,
        logit_scale: float | None = None,
    ) -> None:
        self.prompts = clip_prompts.merged(custom_labels or {})
        self.neutral = tuple(neutral_prompts or clip_prompts.NEUTRAL_PROMPTS)
        self.labels: tuple[str, ...] = tuple(self.prompts)
        self.version = f"clip:{model}"
        self._scale = logit_scale
        self._model = ClipModel(_models_dir(models_dir) / model, self.name, threads)
        self._label_rows: dict[str, np.ndarray] = {}
        self._neutral_rows = np.zeros((0, 0), dtype=np.float32)

    def load(self) -> None:
        self._model.load()
        self._label_rows = {label: self._rows(p) for label, p in self.prompts.items()}
        self._neutral_rows = self._rows(self.neutral)

    def _rows(self, prompts: Sequence[str]) -> np.ndarray:
        missing = [prompt for prompt in prompts if prompt not in self._model.text]
        if missing:
            raise DetectorFailed(
                f"The model in {self._model.directory} has no text embedding for "
                f"{', '.join(map(repr, missing))}; embed them with `vigil models "
                f"embed-prompts {self._model.directory.name}` or add them to prompts.json and "
                "text_embeddings.npy (docs/clip.md)."
            )
        return np.stack([self._model.text[prompt] for prompt in prompts])

    def scores(self, images: Sequence[DecodedImage]) -> list[dict[str, float]]:
        """Per image, each label's confidence 0-100."""
        if not images:
            return []
        embeddings = self._model.embed([image.pixels for image in images])
        scale = self._scale if self._scale is not None else self._model.config.logit_scale
        neutral = (embeddings @ self._neutral_rows.T).max(axis=1)
        found: list[dict[str, float]] = [{} for _ in images]
        for label, rows in self._label_rows.items():
            best = (embeddings @ rows.T).max(axis=1)
            # Two-way softmax of (label, neutral) logits = sigmoid of their scaled difference.
            probability = 1.0 / (1.0 + np.exp(-scale * (best - neutral)))
            for i, value in enumerate(probability):
                found[i][label] = 100.0 * float(value)
        return found

    def detect(self, images: Sequence[DecodedImage]) -> list[list[Detection]]:
        return [
            [Detection(label, confidence, self.name) for label, confidence in scored.items()]
            for scored in self.scores(images)
        ]
