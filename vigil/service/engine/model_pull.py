"""Downloading model bundles into the models directory (`vigil models pull NAME`): each file
from its pinned URL, checked against its pinned sha256, the folder moved in place only when
every file is good."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vigil.detectors.clip_model import missing_files
from vigil.errors import InvalidParameter, ModelChecksumMismatch, ModelDownloadFailed

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


# Bundles vigil knows how to fetch, by name. Every file's sha256 is pinned: an entry is added
# here only with checksums computed from the published files (docs/clip.md, "Model bundles").
REGISTRY: dict[str, ModelSource] = {}


def source(name: str, registry: Mapping[str, ModelSource] | None = None) -> ModelSource:
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
    registry: Mapping[str, ModelSource] | None = None,
) -> Path:
    """The model ``name`` downloaded into ``models_dir / name``; returns that folder. Files go
    to a temporary folder first, so a failure leaves any earlier copy untouched."""
    chosen = source(name, registry)
    models_dir.mkdir(parents=True, exist_ok=True)
    destination = models_dir / chosen.name
    staging = Path(tempfile.mkdtemp(prefix=f".{chosen.name}-", dir=models_dir))
    try:
        for file in chosen.files:
            fetch(file, staging / file.name, timeout)
        if destination.exists():
            shutil.rmtree(destination)
        staging.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination
