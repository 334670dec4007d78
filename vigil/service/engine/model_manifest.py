"""The manifest of a bundle pulled from a model hub (``manifest.json`` in its folder): where
each file came from and its sha256. A file vigil's registry does not pin is trusted at its first
download and recorded here, so a later pull of the same revision refuses bytes that changed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vigil.errors import ModelChecksumMismatch

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileRecord:
    path: str  # the file's path in the repository
    installed_as: str  # its name in the bundle's folder
    sha256: str
    size: int
    pinned: bool  # checked against vigil's registry (False: recorded at first download)


@dataclass(frozen=True)
class Manifest:
    repo: str
    revision: str
    files: tuple[FileRecord, ...]

    def sha256_of(self, repo: str, revision: str) -> dict[str, str]:
        """Each file's recorded sha256, when this manifest is for ``repo`` at ``revision``:
        another revision may hold other bytes for the same path."""
        if (self.repo, self.revision) != (repo, revision):
            return {}
        return {record.path: record.sha256 for record in self.files}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check(local: Path, expected: str | None, pinned: bool, url: str) -> str:
    """The sha256 of ``local`` (the download of ``url``), refused when it is not ``expected``.
    ``None``: nothing to compare with yet, the digest is recorded instead."""
    actual = sha256_file(local)
    if expected is not None and actual != expected.lower():
        origin = "pinned in vigil's registry" if pinned else "recorded at its first download"
        raise ModelChecksumMismatch(
            f"{url} has sha256 {actual}, not the {expected} {origin}; the file was discarded "
            "and the installed bundle, if any, is untouched."
        )
    return actual


def read_manifest(directory: Path) -> Manifest | None:
    """The manifest of the bundle in ``directory``; ``None`` when it has none (a bundle copied
    in by hand, or no bundle yet)."""
    path = directory / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        files = tuple(FileRecord(**record) for record in data["files"])
        return Manifest(str(data["repo"]), str(data["revision"]), files)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        # Ignoring it would silently drop the checksums it records: refuse, and say how to
        # start over.
        raise ModelChecksumMismatch(
            f"Could not read {path} ({exc}); it records the checksums a later pull is checked "
            f"against. Remove the folder {directory} to pull the bundle afresh."
        ) from exc


def write_manifest(directory: Path, manifest: Manifest) -> None:
    data: Mapping[str, Any] = {
        "repo": manifest.repo,
        "revision": manifest.revision,
        "files": [asdict(record) for record in manifest.files],
    }
    (directory / MANIFEST).write_text(json.dumps(data, indent=2) + "\n")
