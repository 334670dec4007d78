"""A tiny CLIP-style model bundle built with the ``onnx`` package: the image tower is a global
average pool and a matrix product, so an image's embedding is its mean colour (R, G, B, 0);
text embeddings are written so that a red image matches "a red thing", a blue one "a blue
thing", and a grey one only the neutral prompt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from vigil.detectors import clip_prompts

SIZE = 32
RED, BLUE, GREY = "a red thing", "a blue thing", "a grey thing"


def image_tower() -> onnx.ModelProto:
    """[N, 3, 32, 32] to [N, 4]: mean per channel, then (r, g, b) -> (r, g, b, 0)."""
    weights = np.zeros((3, 4), dtype=np.float32)
    weights[0, 0] = weights[1, 1] = weights[2, 2] = 1.0
    nodes = [
        helper.make_node("GlobalAveragePool", ["pixels"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "weights"], ["embedding"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_clip_image",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", 4])],
        initializer=[numpy_helper.from_array(weights, "weights")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def text_table() -> dict[str, list[float]]:
    """Every shipped prompt points along the unused 4th axis; the three test prompts do not."""
    table = {prompt: [0.0, 0.0, 0.0, 1.0] for prompt in clip_prompts.all_prompts()}
    table[RED] = [1.0, 0.0, 0.0, 0.0]
    table[BLUE] = [0.0, 0.0, 1.0, 0.0]
    table[GREY] = [1.0, 1.0, 1.0, 0.0]
    return table


def write_bundle(directory: Path) -> Path:
    """The bundle's files in ``directory`` (created), which is returned."""
    directory.mkdir(parents=True, exist_ok=True)
    onnx.save(image_tower(), str(directory / "image.onnx"))
    table = text_table()
    (directory / "prompts.json").write_text(json.dumps(list(table)))
    np.save(directory / "text_embeddings.npy", np.asarray(list(table.values()), dtype=np.float32))
    config = {"image_size": SIZE, "mean": [0, 0, 0], "std": [1, 1, 1], "logit_scale": 20.0}
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def solid(rgb: tuple[int, int, int], size: int = 96) -> np.ndarray:
    return np.tile(np.asarray(rgb, dtype=np.uint8), (size, size, 1))
