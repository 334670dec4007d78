"""A tiny Hugging Face hub on 127.0.0.1 for `vigil models pull` tests: a real HTTP server with
the hub's URL layout (``/{repo}/resolve/{revision}/{path}``, HEAD and GET, the headers
``huggingface_hub`` reads), serving a repository of two tiny CLIP towers built with
``onnx.helper`` and a tokenizer.json built with ``tokenizers``.

The towers see the same world as tests/detectors/tiny_clip.py: an image's embedding is its mean
colour (r, g, b, 0); a prompt's is the sum of its words' vectors, where "red" is (1, 0, 0, 0),
"blue" (0, 0, 1, 0), "grey" (1, 1, 1, 0), "a" and "thing" nothing, and any other word (0, 0, 0,
1), an axis no image reaches."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, pre_tokenizers, processors

from tests.servers import loopback_http

REPO = "vigil-tests/tiny-clip"
REVISION = "0123456789abcdef0123456789abcdef01234567"
SIZE = 32
WORDS = {"<start>": 0, "<end>": 1, "<unk>": 2, "a": 3, "thing": 4, "red": 5, "blue": 6, "grey": 7}
VECTORS = {"<unk>": (0, 0, 0, 1), "red": (1, 0, 0, 0), "blue": (0, 0, 1, 0), "grey": (1, 1, 1, 0)}


def _save(graph: onnx.GraphProto, path: Path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def vision_tower(path: Path, width: int = 4) -> None:
    """``pixel_values`` [N, 3, S, S] to ``image_embeds`` [N, width]: the mean colour."""
    weights = np.eye(3, width, dtype=np.float32)
    nodes = [
        helper.make_node("GlobalAveragePool", ["pixel_values"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "weights"], ["image_embeds"]),
    ]
    pixels = helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["N", 3, SIZE, SIZE])
    embeds = helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["N", width])
    weights_init = numpy_helper.from_array(weights, "weights")
    _save(helper.make_graph(nodes, "vision", [pixels], [embeds], [weights_init]), path)


def text_tower(path: Path) -> None:
    """``input_ids`` int64 [N, L] to ``last_hidden_state`` [N, L, 4] (first, as in real
    exports) and ``text_embeds`` [N, 4], the sum of the words' vectors."""
    table = np.zeros((len(WORDS), 4), dtype=np.float32)
    for word, vector in VECTORS.items():
        table[WORDS[word]] = vector
    nodes = [
        helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"]),
        helper.make_node("ReduceSum", ["last_hidden_state", "axes"], ["text_embeds"], keepdims=0),
    ]
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["N", "L"])
    outputs = [
        helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["N", "L", 4]),
        helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["N", 4]),
    ]
    initializers = [
        numpy_helper.from_array(table, "table"),
        numpy_helper.from_array(np.asarray([1], dtype=np.int64), "axes"),
    ]
    _save(helper.make_graph(nodes, "text", [ids], outputs, initializers), path)


def tokenizer(path: Path) -> None:
    """Whole words, wrapped in start and end tokens as CLIP's tokenizer does."""
    built = Tokenizer(models.WordLevel(WORDS, unk_token="<unk>"))
    built.pre_tokenizer = pre_tokenizers.Whitespace()
    built.post_processor = processors.TemplateProcessing(
        single="<start> $A <end>", special_tokens=[("<start>", 0), ("<end>", 1)]
    )
    built.save(str(path))


def write_repo(folder: Path, vision_width: int = 4) -> Path:
    """The repository's files, laid out as Xenova's CLIP exports are."""
    vision_tower(folder / "onnx" / "vision_model.onnx", vision_width)
    text_tower(folder / "onnx" / "text_model.onnx")
    tokenizer(folder / "tokenizer.json")
    config = {"crop_size": {"height": SIZE, "width": SIZE}, "image_mean": [0, 0, 0]}
    (folder / "preprocessor_config.json").write_text(json.dumps({**config, "image_std": [1] * 3}))
    return folder


def checksums(folder: Path) -> dict[str, str]:
    """sha256 by repository path, for every file of the repository in ``folder``."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class _Hub(BaseHTTPRequestHandler):
    root: Path
    seen: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        self.seen.append(f"{self.command} {self.path}")
        parts = self.path.split("?")[0].strip("/").split("/", 4)
        found = self._file(parts)
        if found is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = found.read_bytes()
        self.send_response(200)
        # What huggingface_hub needs to accept a response as the hub's: the commit, an ETag
        # (for LFS files the content's sha256, as the hub sends) and the size.
        self.send_header("X-Repo-Commit", parts[3] if len(parts[3]) == 40 else REVISION)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _file(self, parts: list[str]) -> Path | None:
        if len(parts) != 5 or parts[2] != "resolve":
            return None
        owner, name, _, revision, path = parts
        candidate = self.root / owner / name / revision / path
        return candidate if candidate.is_file() else None


@contextmanager
def serve(root: Path) -> Iterator[tuple[str, list[str]]]:
    """A hub over ``root/{owner}/{name}/{revision}/{path}``: (its address, requests seen)."""
    seen: list[str] = []
    handler = type("Hub", (_Hub,), {"root": root, "seen": seen})
    with loopback_http(handler) as url:
        yield url, seen
