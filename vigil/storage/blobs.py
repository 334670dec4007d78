"""Blob stores: where uploaded bytes live, in separate areas (delivery vs. quarantine)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, Protocol

# Streaming copies move this much at a time, so memory stays flat whatever the file size.
CHUNK_BYTES = 1024 * 1024
# A temp file this old belongs to no write still going on: writes copy from a file already
# received, in seconds.
TEMP_MAX_AGE = 3600.0


class Area(StrEnum):
    """``originals`` holds what may be delivered or reviewed; ``quarantine`` holds rejected
    media, which is never served to uploaders; ``archive`` holds originals of decided assets
    after an age (cold storage, restored on demand); ``thumbnails`` holds blurred stills of a
    video's flagged segments, keyed ``<asset id>-<n>``."""

    ORIGINALS = "originals"
    QUARANTINE = "quarantine"
    ARCHIVE = "archive"
    THUMBNAILS = "thumbnails"


# The areas an asset's own bytes live in (AssetRow.storage_area).
MEDIA_AREAS = (Area.ORIGINALS, Area.QUARANTINE, Area.ARCHIVE)


def check_key(key: str) -> str:
    """Refuse keys that could escape their area (path separators, dot files) or are empty."""
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise ValueError(f"invalid blob key {key!r}")
    return key


class BlobStore(Protocol):
    def put(self, area: Area, key: str, data: bytes) -> None: ...

    def put_file(self, area: Area, key: str, source: BinaryIO) -> int:
        """Stream ``source`` to its end into the store; returns the number of bytes written."""
        ...

    def get(self, area: Area, key: str) -> bytes: ...

    def open_for_read(self, area: Area, key: str) -> AbstractContextManager[Path | BinaryIO]:
        """The blob for a reader that seeks (a video decoder), without copying it: its path
        where it lies, or a seekable file object that fetches byte ranges as they are read.
        FileNotFoundError when there is no such blob."""
        ...

    def exists(self, area: Area, key: str) -> bool: ...

    def copy(self, key: str, source: Area, target: Area) -> None: ...

    def delete(self, area: Area, key: str) -> None: ...

    def keys_older_than(self, area: Area, seconds: float) -> Iterator[str]: ...

    def sweep_temporary(self) -> int:
        """Remove what interrupted writes left behind; returns how many."""
        ...


class LocalBlobStore:
    """Files under ``root/<area>/<key[:2]>/<key>``, written atomically (temp file + rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for area in Area:
            (root / area.value).mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(parents=True, exist_ok=True)

    def _path(self, area: Area, key: str) -> Path:
        return self.root / area.value / key[:2] / check_key(key)

    def put(self, area: Area, key: str, data: bytes) -> None:
        self._write(area, key, lambda handle: handle.write(data))

    def put_file(self, area: Area, key: str, source: BinaryIO) -> int:
        return self._write(area, key, lambda handle: _copy_chunks(source, handle))

    def _write(self, area: Area, key: str, fill: Callable[[BinaryIO], int]) -> int:
        """Write through ``fill`` into a temp file, sync it, then rename it into place."""
        target = self._path(area, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                written = fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)  # atomic: readers see the whole file or none
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return written

    def get(self, area: Area, key: str) -> bytes:
        return self._path(area, key).read_bytes()

    @contextlib.contextmanager
    def open_for_read(self, area: Area, key: str) -> Iterator[Path | BinaryIO]:
        # The file itself: a write replaces it whole (rename), never edits it in place, so a
        # copy would only cost disk and time.
        path = self._path(area, key)
        if not path.is_file():
            raise FileNotFoundError(f"no blob at {path}")
        yield path

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

    def sweep_temporary(self) -> int:
        """Remove temp files older than ``TEMP_MAX_AGE``: a write that a crash (SIGKILL, power
        loss) interrupted leaves one in ``tmp`` that nothing else would ever remove."""
        cutoff = time.time() - TEMP_MAX_AGE
        removed = 0
        for path in (self.root / "tmp").iterdir():
            with contextlib.suppress(FileNotFoundError):  # another process swept it first
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed


def _copy_chunks(source: BinaryIO, target: BinaryIO) -> int:
    written = 0
    while chunk := source.read(CHUNK_BYTES):
        target.write(chunk)
        written += len(chunk)
    return written
