"""Int8 variants of bundled models, built on this machine from vigil's calibration tables.

A packaged fp32 model is quantized statically (QDQ, per-channel int8 weights, uint8
activations) with the activation ranges vigil ships in ``vigil/detectors/calibration/`` (made by
``benchmarks/quantized.py --write-calibration`` from scikit-image's sample photos), so no
calibration images are needed at run time. The result is cached under
``$XDG_CACHE_HOME/vigil/quantized`` (``~/.cache`` by default), keyed by the model's bytes, the
table, onnxruntime's version and this recipe: the first load builds it (seconds), later loads
and other processes reuse it. docs/speed.md#quantized-models has the agreement figures.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import version_converter

from vigil.detectors import providers
from vigil.detectors.onnx import create_session
from vigil.errors import DetectorFailed

RECIPE = "qdq-u8s8-perchannel-float-softmax-2"  # change when the way models are quantized changes
PRECISIONS = ("fp32", "int8")
# Kept in float: a quantized softmax would report scores in steps of 1/255 (0.39 points).
_FLOAT_OPS = ("Softmax",)
_MIN_OPSET = 13  # per-channel DequantizeLinear needs its ``axis`` attribute


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vigil" / "quantized"


def calibration_table(detector: str) -> Path:
    """The activation ranges vigil ships for ``detector``'s model."""
    path = Path(str(importlib.resources.files("vigil.detectors").joinpath("calibration")))
    table = path / f"{detector}.json"
    if not table.is_file():
        raise DetectorFailed(
            f"Detector {detector!r} has no calibration table ({table}), so it has no int8 "
            "variant; set its precision option to fp32."
        )
    return table


def check_precision(precision: str, detector: str) -> str:
    """``precision`` checked, then as it runs on the active providers (``precision_for``):
    every detector takes the precision it runs from here."""
    if precision not in PRECISIONS:
        raise DetectorFailed(
            f"Detector {detector!r}: precision must be one of {', '.join(PRECISIONS)}, "
            f"not {precision!r}."
        )
    return precision_for(precision, providers.active())


def precision_for(precision: str, chosen: Sequence[str]) -> str:
    """The precision a model runs at on the ``chosen`` providers: the one place that decides.

    The int8 variants are a CPU path: their QDQ graphs are fast only where int8 kernels fuse
    them into int8 kernels (onnxruntime's CPU provider). The CUDA provider does not, so it
    would run each layer in fp32 between a quantize and a dequantize node: slower and less
    accurate than the fp32 model. And the agreement figures (docs/speed.md) were measured on
    the CPU. So with any provider other than the CPU one asked for, fp32.
    """
    return "fp32" if providers.accelerated(chosen) else precision


def with_precision(version: str, precision: str) -> str:
    """A detector's version naming its precision, so the duplicate cache and stored model
    versions never mix fp32 and int8 results."""
    return version if precision == "fp32" else f"{version}+{precision}"


def quantized_model(source: Path, table: Path, cache: Path | None = None) -> Path:
    """The int8 variant of ``source`` quantized with ``table``: from the cache, or built now."""
    folder = cache or cache_dir()
    target = folder / f"{source.stem}-{_key(source, table)}.int8.onnx"
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _build(source, table, target)
    except Exception as exc:  # onnx and onnxruntime's quantizer raise untyped errors
        raise DetectorFailed(
            f"Could not build the int8 variant of {source.name}: {exc}; set the detector's "
            "precision option to fp32."
        ) from exc
    return target


def _key(source: Path, table: Path) -> str:
    digest = hashlib.sha256()
    recipe = f"{RECIPE}|{ort.__version__}".encode()
    parts = (source.read_bytes(), table.read_bytes(), recipe)
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:16]


def _build(source: Path, table: Path, target: Path) -> None:
    """Quantize into a private file, then rename: processes loading at once never see half a
    model, and each writes the same bytes."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as scratch:
        built = Path(scratch) / "model.int8.onnx"
        _quantize(_prepared(source, Path(scratch)), built, table)
        os.replace(built, target)


def _quantize(prepared: Path, output: Path, table: Path, reader: object = None) -> None:
    """vigil's recipe. With a calibration ``reader`` the ranges it yields are written to
    ``table``; without one, ``table`` supplies them."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    graph = onnx.load(str(prepared)).graph
    quantize_static(
        str(prepared),
        str(output),
        reader,
        nodes_to_exclude=[node.name for node in graph.node if node.op_type in _FLOAT_OPS],
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibration_cache_path=str(table),
    )


def _prepared(source: Path, scratch: Path) -> Path:
    """The model at opset 13 or later, shapes inferred and graph folded, ready to quantize."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    model = onnx.load(str(source))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    converted = source
    if opset < _MIN_OPSET:
        converted = scratch / "opset.onnx"
        onnx.save(version_converter.convert_version(model, _MIN_OPSET), str(converted))
    prepared = scratch / "prepared.onnx"
    quant_pre_process(str(converted), str(prepared), skip_symbolic_shape=True)
    return prepared


def write_table(source: Path, batches: Iterable[np.ndarray], table: Path) -> None:
    """Record ``source``'s activation ranges on ``batches`` (one preprocessed image each, with
    its batch axis) into ``table``, the file ``quantized_model`` reads."""
    from onnxruntime.quantization import CalibrationDataReader

    input_name = create_session(source, 0).get_inputs()[0].name

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.items = iter([{input_name: batch} for batch in batches])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    table.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="vigil-calibrate-") as scratch:
        prepared = _prepared(source, Path(scratch))
        _quantize(prepared, Path(scratch) / "model.int8.onnx", table, Reader())
    table.chmod(0o644)  # written private by onnxruntime; it ships with vigil
