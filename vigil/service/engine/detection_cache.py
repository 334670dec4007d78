"""Reusing detections for re-uploads, so a duplicate costs almost no inference.

Two levels. Each remembers which detectors ran, at which version (the model version), and lends
only the detections of detectors the new upload needs at the same versions: what a duplicate
lacks (OCR, say, under a stricter policy) runs now, and nothing made by another version of a
detector is ever reused:

- exact duplicates, across processes: the decided asset in the database with the same sha256
  that ran the most of the wanted detectors lends its stored ``detections``;
- near-duplicates, in this process: a bounded LRU of recent images by perceptual hash (dHash);
  one within ``cache_phash_distance`` bits lends its detections (``-1`` turns this off).

Only detections are reused: the policy always decides afresh on them.

Reuse stays within one owner (the uploading key) unless ``cache_share_across_owners`` is on: a
reused upload answers much faster than a fresh one, so sharing would tell an uploader whether
someone else had sent the same image. Each entry and lookup is scoped by ``_scope``.
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
class Coverage:
    """A model version taken apart: vigil's own version and each detector's ``name@version``.

    ``ModerationModelVersion`` is ``vigil-<version>:<name>@<version>,...`` (the detectors that
    ran); two versions share the detectors whose parts are equal."""

    vigil: str
    parts: frozenset[str]

    @classmethod
    def of(cls, version: str) -> Coverage:
        vigil, _, parts = version.partition(":")
        return cls(vigil, frozenset(part for part in parts.split(",") if part))

    @property
    def names(self) -> frozenset[str]:
        return _names(self.parts)

    def shared_names(self, other: Coverage) -> frozenset[str]:
        """The detectors both ran at the same version (none across vigil versions)."""
        return _names(self.parts & other.parts) if self.vigil == other.vigil else frozenset()


def _names(parts: frozenset[str]) -> frozenset[str]:
    return frozenset(part.partition("@")[0] for part in parts)


@dataclass(frozen=True)
class Reuse:
    """Detections lent by an earlier image, for the detectors ``covered``."""

    detections: list[Detection]
    covered: frozenset[str]

    @classmethod
    def lent(cls, detections: Sequence[Detection], covered: frozenset[str]) -> Reuse:
        return cls([d for d in detections if d.detector in covered], covered)


@dataclass(frozen=True)
class _Entry:
    coverage: Coverage
    phash: int
    detections: list[Detection]
    scope: str  # the owner whose upload it was; "" when detections are shared by everyone


SHARED = ""  # the scope of every entry when detections are shared across owners


class RecentDetections:
    """A thread-safe LRU of recent detections, found by sha256 or by perceptual hash within a
    scope (an owner, or ``SHARED``). An entry lends what it has for the detectors it shares
    with the request (``Reuse``)."""

    def __init__(self, size: int, max_distance: int) -> None:
        self.size = size
        self.max_distance = max_distance
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()  # (scope, sha256)
        self._lock = threading.Lock()

    def find(
        self, version: str, sha256: str, phash: int, scope: str = SHARED
    ) -> list[Detection] | None:
        """Detections of an image that ran exactly ``version``'s detectors, if one is known."""
        wanted = Coverage.of(version)
        reuse = self.lend(wanted, sha256, phash, scope)
        return reuse.detections if reuse is not None and reuse.covered == wanted.names else None

    def lend(self, wanted: Coverage, sha256: str, phash: int, scope: str = SHARED) -> Reuse | None:
        """The same bytes' entry in ``scope`` if it shares a detector with ``wanted``, else the
        most recent near-duplicate in ``scope`` that does."""
        with self._lock:
            for key in ((scope, sha256), *self._near(phash, scope)):
                entry = self._entries.get(key)
                covered = entry.coverage.shared_names(wanted) if entry else frozenset()
                if entry is not None and covered:
                    self._entries.move_to_end(key)
                    return Reuse.lent(entry.detections, covered)
        return None

    def _near(self, phash: int, scope: str) -> list[tuple[str, str]]:
        """Entries of ``scope`` within ``max_distance`` bits, most recent first (none when
        turned off)."""
        if self.max_distance < 0:
            return []
        return [
            key
            for key, entry in reversed(self._entries.items())
            if entry.scope == scope and distance(entry.phash, phash) <= self.max_distance
        ]

    def add(
        self,
        version: str,
        sha256: str,
        phash: int,
        detections: list[Detection],
        scope: str = SHARED,
    ) -> None:
        if self.size <= 0:
            return
        with self._lock:
            key = (scope, sha256)
            self._entries[key] = _Entry(Coverage.of(version), phash, list(detections), scope)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class DetectionCache:
    """Wraps ``engine.detect``: cached detections where a duplicate is known, the detectors
    (one batch) for the rest, whose results are remembered. A duplicate that ran only some of
    the detectors an upload needs lends those, and only the others run."""

    def __init__(
        self,
        db: Database | None = None,
        *,
        enabled: bool = True,
        size: int = 0,
        phash_distance: int = 0,
        shared: bool = False,
    ) -> None:
        self.enabled = enabled
        self.db = db
        self.recent = RecentDetections(size, phash_distance)
        self.shared = shared  # VIGIL_CACHE_SHARE_ACROSS_OWNERS

    def _scope(self, owner: str) -> str:
        return SHARED if self.shared else owner

    def detect(
        self,
        engine: Detects,
        images: Sequence[DecodedImage],
        digests: Sequence[str],
        chosen: Sequence[frozenset[str]] | None = None,
        owners: Sequence[str] | None = None,
    ) -> list[list[Detection]]:
        """Each image's detections by the detectors ``chosen`` for it (``None``: all); reused
        only from images whose detectors had the same versions, uploaded by the same one of
        ``owners`` (each image's uploading key; ``None``: one anonymous owner) unless
        detections are shared."""
        every = frozenset(d.name for d in engine.detectors)
        picks = list(chosen) if chosen is not None else [every] * len(images)
        if not self.enabled:
            return engine.detect(list(images), chosen=picks)
        scopes = [self._scope(owner) for owner in (owners or [SHARED] * len(images))]
        versions = [engine.version_of(pick) for pick in picks]
        hashes = [_phash(image) for image in images]
        lent: list[Reuse | None] = [
            self.recent.lend(Coverage.of(version), digest, phash, scope)
            for version, digest, phash, scope in zip(versions, digests, hashes, scopes, strict=True)
        ]
        self._fill_from_database(lent, versions, picks, digests, scopes)
        missing = [
            pick - (reuse.covered if reuse else frozenset())
            for pick, reuse in zip(picks, lent, strict=True)
        ]
        to_run = [index for index, names in enumerate(missing) if names]
        fresh = (
            engine.detect([images[i] for i in to_run], chosen=[missing[i] for i in to_run])
            if to_run
            else []
        )
        ran = dict(zip(to_run, fresh, strict=True))
        found: list[list[Detection]] = []
        for index, reuse in enumerate(lent):
            detections = [*(reuse.detections if reuse else []), *ran.get(index, [])]
            self.recent.add(
                versions[index], digests[index], hashes[index], detections, scopes[index]
            )
            found.append(detections)
        return found

    def _fill_from_database(
        self,
        lent: list[Reuse | None],
        versions: Sequence[str],
        picks: Sequence[frozenset[str]],
        digests: Sequence[str],
        scopes: Sequence[str],
    ) -> None:
        """Where the LRU lent nothing, or not everything, the decided asset with the same
        bytes (and, unless shared, the same owner) that covers the most of the wanted
        detectors lends instead (one query)."""
        short = [
            index
            for index, reuse in enumerate(lent)
            if reuse is None or reuse.covered != picks[index]
        ]
        if self.db is None or not short:
            return
        stored = self._stored(self.db, {(scopes[i], digests[i]) for i in short})
        for index in short:
            wanted = Coverage.of(versions[index])
            for version, detections in stored.get((scopes[index], digests[index]), []):
                covered = Coverage.of(version).shared_names(wanted)
                held = lent[index]
                if len(covered) > (len(held.covered) if held else 0):
                    lent[index] = Reuse.lent(detections, covered)

    def _stored(
        self, db: Database, wanted: set[tuple[str, str]]
    ) -> dict[tuple[str, str], list[tuple[str, list[Detection]]]]:
        """For each of these (scope, sha256)s, one decided asset per model version it was
        decided with: (model version, detections). Only the enabled detectors' detections are
        lent (``Reuse.lent``), never those of an adapter chosen for that upload."""
        digests = {digest for _, digest in wanted}
        found_in = [AssetRow.sha256.in_(digests), AssetRow.decided_at.is_not(None)]
        grouping = [AssetRow.sha256, AssetRow.model_version]
        if not self.shared:
            found_in.append(AssetRow.owner_key_id.in_({scope for scope, _ in wanted}))
            grouping.append(AssetRow.owner_key_id)
        first = select(func.min(AssetRow.id)).where(*found_in).group_by(*grouping)
        columns = (AssetRow.owner_key_id, AssetRow.sha256, AssetRow.model_version)
        with db.session() as session:
            rows = session.execute(
                select(*columns, AssetRow.detections).where(AssetRow.id.in_(first))
            ).all()
        stored: dict[tuple[str, str], list[tuple[str, list[Detection]]]] = {}
        for owner, digest, version, detections in rows:
            found = [Detection.from_dict(item) for item in detections]
            stored.setdefault((self._scope(owner), digest), []).append((version, found))
        return stored


def _phash(image: DecodedImage) -> int:
    """The dHash of a box-reduced copy: the same bits in a fraction of the time for photos."""
    factor = max(1, min(image.width, image.height) // 128)
    return dhash(image.pixels.reduce(factor) if factor > 1 else image.pixels)
