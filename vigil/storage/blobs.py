"""Blob stores: where uploaded bytes live, in separate areas (delivery vs. quarantine)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class Area(StrEnum):
    """``originals`` holds what may be delivered or reviewed; ``quarantine`` holds rejected
    media, which is never served to uploaders."""

    ORIGINALS = "originals"
    QUARANTINE = "quarantine"


class BlobStore(Protocol):
    def put(self, area: Area, key: str, data: bytes) -> None: ...

    def get(self, area: Area, key: str) -> bytes: ...

    def exists(self, area: Area, key: str) -> bool: ...

    def copy(self, key: str, source: Area, target: Area) -> None: ...

    def delete(self, area: Area, key: str) -> None: ...

    def keys_older_than(self, area: Area, seconds: float) -> Iterator[str]: ...


class LocalBlobStore:
    """Files under ``root/<area>/<key[:2]>/<key>``, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for area in Area:
            (root / area.value).mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, area: Area, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"invalid blob key {key!r}")
        return self.root / area.value / key[:2] / key

    def put(self, area: Area, key: str, data: bytes) -> None:
        target = self._path(area, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)  # atomic: readers see the whole file or none
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def get(self, area: Area, key: str) -> bytes:
        return self._path(area, key).read_bytes()

    def exists(self, area: Area, key: str) -> bool:
        return self._path(area, key).is_file()

    def copy(self, key: str, source: Area, target: Area) -> None:
        self.put(target, key, self.get(source, key))

    def delete(self, area: Area, key: str) -> None:
        self._path(area, key).unlink(missing_ok=True)

    def keys_older_than(self, area: Area, seconds: float) -> Iterator[str]:
        cutoff = time.time() - seconds
        for path in (self.root / area.value).glob("*/*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                yield path.name
