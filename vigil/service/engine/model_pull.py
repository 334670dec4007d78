"""Downloading model bundles into the models directory (`vigil models pull NAME`): a complete
bundle from pinned URLs, or one built from a Hugging Face repository of ONNX CLIP towers
(model_hub.py). Every file is checked against its sha256, and the folder is moved in place
only when the whole bundle is good."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil.detectors.clip_model import missing_files
from vigil.errors import InvalidParameter, ModelChecksumMismatch, ModelDownloadFailed
from vigil.service.engine import model_hub
from vigil.service.engine.model_hub import HubSource

_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelFile:
    name: str  # the file name inside the model's folder
    url: str
    sha256: str


@dataclass(frozen=True)
class ModelSource:
    name: str
    description: str
    licence: str
    files: tuple[ModelFile, ...]


# Xenova's ONNX export of OpenAI CLIP ViT-B/32 (transformers.js), at one commit. The sha256s
# were read from several independent projects that pin the same files at this commit (see
# docs/clip.md, "Model bundles"); the hub's own LFS digests are the same values.
_XENOVA = "Xenova/clip-vit-base-patch32"
_XENOVA_REVISION = "d15189d7028b43f1d3e65039190477f6af591c2a"
_XENOVA_COMMON = {
    "tokenizer.json": "f7f3b7af117d467b58374797691a6438d3e6b9e9cef800dfd5dced7f697a90cd",
    "preprocessor_config.json": "6f638fb9401a6d6296feff533ee7efe657b787c49f954f82f5906b36ef2a1b1f",
}
_LICENCE = "MIT (OpenAI CLIP weights; ONNX export by Xenova)"

# Bundles vigil knows how to fetch, by name. Every file's sha256 is pinned: a hub repository
# pulled with `--repo` instead has its checksums recorded at the first download.
REGISTRY: dict[str, ModelSource | HubSource] = {
    "clip-vit-b32": HubSource(
        name="clip-vit-b32",
        repo=_XENOVA,
        revision=_XENOVA_REVISION,
        sha256={
            "onnx/vision_model.onnx": (
                "fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40"
            ),
            "onnx/text_model.onnx": (
                "3f6571f5bad13a97c469c1622e1cfc4d9aef78b79fdbfcff804ca357bfada8cc"
            ),
            **_XENOVA_COMMON,
        },
        description="OpenAI CLIP ViT-B/32, float32 (352 MB image tower, 254 MB text tower)",
        licence=_LICENCE,
    ),
    "clip-vit-b32-int8": HubSource(
        name="clip-vit-b32-int8",
        repo=_XENOVA,
        revision=_XENOVA_REVISION,
        vision="onnx/vision_model_quantized.onnx",
        text="onnx/text_model_quantized.onnx",
        sha256={
            "onnx/vision_model_quantized.onnx": (
                "583fd1110a514667812fee7d684952aaf82a99b959760c8d7dca7e0ab9839299"
            ),
            "onnx/text_model_quantized.onnx": (
                "73baab855d406190da9faa498cfedf65f15cf309f4cc7385b7b032e6d08e5c3a"
            ),
            **_XENOVA_COMMON,
        },
        description="the same model quantized to int8 (89 MB + 65 MB); coarser scores",
        licence=_LICENCE,
    ),
}


def source(
    name: str, registry: Mapping[str, ModelSource | HubSource] | None = None
) -> ModelSource | HubSource:
    known = REGISTRY if registry is None else registry
    if name not in known:
        listed = ", ".join(sorted(known)) or "none in this release"
        raise InvalidParameter(
            f"Unknown model {name!r}; models vigil can pull: {listed}. A bundle built elsewhere "
            "can be copied into the models directory by hand (docs/clip.md)."
        )
    return known[name]


def installed(models_dir: Path) -> list[str]:
    """The model folders under ``models_dir`` that hold a complete clip bundle."""
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.iterdir() if p.is_dir() and not missing_files(p))


def fetch(file: ModelFile, target: Path, timeout: float) -> None:
    """``file`` downloaded to ``target``, its sha256 checked; failures are refusals."""
    digest = hashlib.sha256()
    try:
        with (
            urllib.request.urlopen(file.url, timeout=timeout) as response,
            target.open("wb") as out,
        ):
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelDownloadFailed(
            f"Could not download {file.url}: {reason}. `vigil models pull` needs internet "
            "access to that host; without it copy the model folder in by hand (docs/clip.md)."
        ) from exc
    if digest.hexdigest() != file.sha256.lower():
        raise ModelChecksumMismatch(
            f"{file.url} has sha256 {digest.hexdigest()}, not the pinned {file.sha256}; the "
            "file was discarded."
        )


def pull(
    name: str,
    models_dir: Path,
    timeout: float = 30.0,
    registry: Mapping[str, ModelSource | HubSource] | None = None,
    *,
    endpoint: str | None = None,
    prompts: Sequence[str] = (),
) -> Path:
    """The registered model ``name`` downloaded into ``models_dir / name``; returns that
    folder. See ``pull_source``."""
    return pull_source(
        source(name, registry), models_dir, timeout, endpoint=endpoint, prompts=prompts
    )


def pull_source(
    chosen: ModelSource | HubSource,
    models_dir: Path,
    timeout: float = 30.0,
    *,
    endpoint: str | None = None,
    prompts: Sequence[str] = (),
) -> Path:
    """``chosen`` downloaded into ``models_dir / chosen.name``; returns that folder. Files go
    to a temporary folder first, so a failure leaves any earlier copy untouched. A hub source
    gets the text embeddings of the shipped prompts, of ``prompts`` and of those the earlier
    copy had; ``endpoint`` is the hub's address (default: ``HF_ENDPOINT`` or huggingface.co)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    destination = models_dir / chosen.name
    staging = Path(tempfile.mkdtemp(prefix=f".{chosen.name}-", dir=models_dir))
    try:
        if isinstance(chosen, HubSource):
            bundle = model_hub.build(
                chosen, staging, destination, timeout=timeout, endpoint=endpoint, prompts=prompts
            )
        else:
            bundle = staging / "bundle"
            bundle.mkdir()
            for file in chosen.files:
                fetch(file, bundle / file.name, timeout)
        _replace(destination, bundle, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def _replace(destination: Path, bundle: Path, staging: Path) -> None:
    """``bundle`` moved to ``destination``. The earlier copy is moved aside into ``staging``
    (removed with it) rather than deleted first, so it can be put back if the move fails."""
    previous = staging / "previous"
    if destination.exists():
        destination.rename(previous)
    try:
        bundle.rename(destination)
    except OSError:
        if previous.exists():
            previous.rename(destination)
        raise
