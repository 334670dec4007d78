"""Reusing detections for re-uploads, so a duplicate costs almost no inference.

Two levels, both keyed by the model version of the detectors that ran for the upload (each
one's name and version; on-demand detectors run only where the policy needs them), so
detections made by another detector set or version are never reused:

- exact duplicates, across processes: a decided asset in the database with the same sha256
  and the same model version lends its stored ``detections``;
- near-duplicates, in this process: a bounded LRU of recent images by perceptual hash (dHash);
  one within ``cache_phash_distance`` bits lends its detections (``-1`` turns this off).

Only detections are reused: the policy always decides afresh on them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import func, select

from vigil.detectors.base import Detection, Detector
from vigil.media.image import DecodedImage
from vigil.media.phash import dhash, distance
from vigil.settings import Settings
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow


class Detects(Protocol):
    """The part of ``ModerationEngine`` the cache wraps."""

    detectors: list[Detector]

    def version_of(self, names: frozenset[str] | None) -> str: ...

    def detect(
        self,
        images: list[DecodedImage],
        extra: Sequence[Detector] = (),
        chosen: Sequence[frozenset[str]] | None = None,
    ) -> list[list[Detection]]: ...


@dataclass(frozen=True)
class _Entry:
    version: str
    phash: int
    detections: list[Detection]


class RecentDetections:
    """A thread-safe LRU of recent detections, found by sha256 or by perceptual hash."""

    def __init__(self, size: int, max_distance: int) -> None:
        self.size = size
        self.max_distance = max_distance
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # by sha256
        self._lock = threading.Lock()

    def find(self, version: str, sha256: str, phash: int) -> list[Detection] | None:
        with self._lock:
            exact = self._entries.get(sha256)
            key = sha256 if exact and exact.version == version else self._near(version, phash)
            if key is None:
                return None
            entry = self._entries[key]
            self._entries.move_to_end(key)
            return list(entry.detections)

    def _near(self, version: str, phash: int) -> str | None:
        """The most recent entry within ``max_distance`` bits, if near-duplicates count."""
        if self.max_distance < 0:
            return None
        for key, entry in reversed(self._entries.items()):
            if entry.version == version and distance(entry.phash, phash) <= self.max_distance:
                return key
        return None

    def add(self, version: str, sha256: str, phash: int, detections: list[Detection]) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[sha256] = _Entry(version, phash, list(detections))
            self._entries.move_to_end(sha256)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class DetectionCache:
    """Wraps ``engine.detect``: cached detections where a duplicate is known, the detectors
    (one batch) for the rest, whose results are remembered."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.enabled = settings.cache_enabled
        self.db = db
        self.recent = RecentDetections(settings.cache_size, settings.cache_phash_distance)

    def detect(
        self,
        engine: Detects,
        images: Sequence[DecodedImage],
        digests: Sequence[str],
        chosen: Sequence[frozenset[str]] | None = None,
    ) -> list[list[Detection]]:
        """Each image's detections by the detectors ``chosen`` for it (``None``: all); an image
        is reused only from one that had exactly those detectors (the same model version)."""
        every = frozenset(d.name for d in engine.detectors)
        picks = list(chosen) if chosen is not None else [every] * len(images)
        if not self.enabled:
            return engine.detect(list(images), chosen=picks)
        versions = [engine.version_of(pick) for pick in picks]
        hashes = [_phash(image) for image in images]
        found = [
            self.recent.find(version, digest, phash)
            for version, digest, phash in zip(versions, digests, hashes, strict=True)
        ]
        for version in set(versions):
            group = [index for index, v in enumerate(versions) if v == version]
            self._fill_from_database(found, version, picks[group[0]], group, digests, hashes)
        missing = [index for index, hit in enumerate(found) if hit is None]
        if missing:
            fresh = engine.detect(
                [images[index] for index in missing], chosen=[picks[index] for index in missing]
            )
            for index, detections in zip(missing, fresh, strict=True):
                found[index] = detections
                self.recent.add(versions[index], digests[index], hashes[index], detections)
        return [hit if hit is not None else [] for hit in found]

    def _fill_from_database(
        self,
        found: list[list[Detection] | None],
        version: str,
        names: frozenset[str],
        group: Sequence[int],
        digests: Sequence[str],
        hashes: Sequence[int],
    ) -> None:
        """Fill the group's misses from decided assets with the same bytes and model version,
        in one query."""
        wanted = {digests[index] for index in group if found[index] is None}
        if self.db is None or not wanted:
            return
        stored = self._stored(self.db, version, names, wanted)
        for index in group:
            digest = digests[index]
            if found[index] is None and digest in stored:
                found[index] = stored[digest]
                self.recent.add(version, digest, hashes[index], stored[digest])

    def _stored(
        self, db: Database, version: str, names: frozenset[str], digests: set[str]
    ) -> dict[str, list[Detection]]:
        """The detections of decided assets with these bytes and this model version, by
        sha256; only the engine's own detectors' (not those of an adapter chosen for that
        upload)."""
        # One row per digest, however often the same bytes were uploaded.
        first = (
            select(func.min(AssetRow.id))
            .where(
                AssetRow.sha256.in_(digests),
                AssetRow.model_version == version,
                AssetRow.decided_at.is_not(None),
            )
            .group_by(AssetRow.sha256)
        )
        with db.session() as session:
            rows = session.execute(
                select(AssetRow.sha256, AssetRow.detections).where(AssetRow.id.in_(first))
            ).all()
        stored: dict[str, list[Detection]] = {}
        for digest, detections in rows:
            stored.setdefault(
                digest,
                [Detection.from_dict(item) for item in detections if item["Detector"] in names],
            )
        return stored


def _phash(image: DecodedImage) -> int:
    """The dHash of a box-reduced copy: the same bits in a fraction of the time for photos."""
    factor = max(1, min(image.width, image.height) // 128)
    return dhash(image.pixels.reduce(factor) if factor > 1 else image.pixels)
