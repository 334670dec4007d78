"""Known content in the pipeline: an image's PDQ hash matched against every list before the
policy decides, and the list's action as a rule that outranks the detectors' bands.

The engine calls ``KnownContent.check`` with an image's detections, judges the detections it
returns (labels an ``allow`` match exempts are gone, list matches are added as ``hashlist``
detections), then lets ``KnownCheck.decide`` put the list's action over the policy's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vigil import taxonomy
from vigil.detectors.base import Detection
from vigil.media.image import DecodedImage
from vigil.policy.model import SEVERITY, Decision
from vigil.service.core.times import iso
from vigil.service.hashlists import repository
from vigil.service.hashlists.matcher import Found, HashMatcher
from vigil.service.hashlists.model import ListAction, confidence
from vigil.service.hashlists.pdq import VARIANTS, PdqHash, hash_upload, variant_name
from vigil.storage.db import Database
from vigil.storage.tables import HashListItemRow

DETECTOR = "hashlist"


@dataclass(frozen=True)
class HashMatch(Detection):
    """A listed hash near the image: a ``hashlist`` detection of the list's label, whose
    confidence falls from 100 (an exact copy) to 50 at the list's distance."""

    list_name: str = ""
    action: str = ListAction.BLOCK.value
    item_id: int = 0
    distance: int = 0
    max_distance: int = 0
    variant: str = VARIANTS[0]
    added_by: str = ""
    added_at: str = ""
    note: str = ""
    source_asset_id: str | None = None
    exempts: tuple[str, ...] = ()  # an allow item's categories ([]: every category)
    timestamp_ms: int | None = None  # the video frame it was found in

    def to_dict(self) -> dict[str, Any]:
        shown = super().to_dict()
        shown["HashList"] = {
            "List": self.list_name,
            "Action": self.action,
            "ItemId": self.item_id,
            "Distance": self.distance,
            "MaxDistance": self.max_distance,
            "Variant": self.variant,
            "AddedBy": self.added_by,
            "AddedAt": self.added_at,
            "Note": self.note,
            "SourceAsset": self.source_asset_id,
        }
        if self.timestamp_ms is not None:
            shown["HashList"]["Timestamp"] = self.timestamp_ms
        return shown

    def origin(self) -> str:
        """Where the listed hash came from, in words."""
        if self.note:
            return self.note
        return f"added by {self.added_by} on {self.added_at[:16].replace('T', ' ')} UTC"


@dataclass(frozen=True)
class KnownCheck:
    """One image checked against the lists."""

    pdq: PdqHash | None  # None when hashing is off
    matches: tuple[HashMatch, ...] = ()  # block and review lists, after exemptions
    allowed: tuple[HashMatch, ...] = ()  # allow lists
    detections: list[Detection] = field(default_factory=list)  # what the policy judges
    exempted: tuple[str, ...] = ()  # detections' labels an allow match removed

    @property
    def found(self) -> list[HashMatch]:
        """Every match, as stored with the asset's detections."""
        return [*self.matches, *self.allowed]

    def stored(self, detections: Sequence[Detection]) -> list[Detection]:
        """The detectors' own ``detections`` and every match: what the asset keeps."""
        return [*(d for d in detections if not isinstance(d, HashMatch)), *self.found]

    def decide(self, decision: Decision) -> Decision:
        """The list's action over the policy's decision: a block or review list decides
        when it is at least as severe (a review list never lowers a block); an allow match
        that left nothing to act on names itself as the reason."""
        strongest = _strongest(self.matches)
        if strongest is not None and SEVERITY[strongest.action] >= SEVERITY[decision.action]:
            return replace(
                decision,
                action=strongest.action,  # type: ignore[arg-type]
                rule=f"hashlist.{strongest.list_name}.{strongest.action}",
                label=strongest.label,
                confidence=strongest.confidence,
                threshold=None,
                qa_sample=False,
                reason=_matched(strongest),
            )
        if not self.allowed:
            return decision
        note = _exempted(self.allowed[0], self.exempted)
        if decision.action != "allow":
            return replace(decision, reason=f"{decision.reason}; {note}")
        rule = f"hashlist.{self.allowed[0].list_name}.allow"
        return replace(decision, rule=rule, threshold=None, reason=f"allowed: {note}")


def hash_values(check: KnownCheck | None) -> dict[str, Any]:
    """The asset columns that keep an image's PDQ hash (none when hashing is off)."""
    if check is None or check.pdq is None:
        return {}
    content = check.pdq.content.hex if check.pdq.content else None
    return {"pdq": check.pdq.hex, "pdq_quality": check.pdq.quality, "pdq_content": content}


class KnownContent:
    """Hashing and matching for the engine; built once by the app object."""

    def __init__(self, db: Database, matcher: HashMatcher) -> None:
        self.db = db
        self.matcher = matcher

    @property
    def enabled(self) -> bool:
        return self.matcher.rules.enabled

    def check(
        self,
        image: DecodedImage,
        detections: Sequence[Detection],
        timestamp_ms: int | None = None,
    ) -> KnownCheck:
        """Hash ``image``, match it, and return the detections the policy should judge.
        Earlier matches among ``detections`` (a video's frames) count as this image's."""
        earlier = [found for found in detections if isinstance(found, HashMatch)]
        others = [found for found in detections if not isinstance(found, HashMatch)]
        pdq = hash_upload(image.pixels)
        fresh: list[HashMatch] = []
        if pdq.quality >= self.matcher.rules.quality_floor:
            fresh = self._matches(self.matcher.find(pdq.queries), timestamp_ms)
        found = [*earlier, *fresh]
        allowed = tuple(match for match in found if match.action == ListAction.ALLOW)
        exempt = _exemption(allowed)
        kept = [match for match in found if match not in allowed and not exempt(match.label)]
        judged = [found for found in others if not exempt(found.label)]
        gone = sorted({found.label for found in others if exempt(found.label)})
        return KnownCheck(pdq, tuple(kept), allowed, [*judged, *kept], tuple(gone))

    def _matches(self, hits: Sequence[Found], timestamp_ms: int | None) -> list[HashMatch]:
        """The nearest listed hash of each list that matched."""
        nearest: dict[int, Found] = {}
        for hit in hits:
            if hit.list.id not in nearest:  # hits come nearest first
                nearest[hit.list.id] = hit
        if not nearest:
            return []
        with self.db.session() as session:
            items = repository.items_by_id(session, [hit.item_id for hit in nearest.values()])
        return [
            _match(hit, items[hit.item_id], timestamp_ms)
            for hit in nearest.values()
            if hit.item_id in items  # removed since the snapshot was taken
        ]


def _match(hit: Found, item: HashListItemRow, timestamp_ms: int | None) -> HashMatch:
    return HashMatch(
        label=hit.list.label,
        confidence=confidence(hit.distance, hit.list.distance),
        detector=DETECTOR,
        list_name=hit.list.name,
        action=hit.list.action.value,
        item_id=item.id,
        distance=hit.distance,
        max_distance=hit.list.distance,
        variant=variant_name(hit.variant),
        added_by=item.added_by,
        added_at=iso(item.created_at),
        note=item.note,
        source_asset_id=item.source_asset_id,
        exempts=tuple(item.labels or ()),
        timestamp_ms=timestamp_ms,
    )


def _exemption(allowed: Sequence[HashMatch]) -> Any:
    """Whether a label is exempted by the ``allowed`` matches: those in the top-level
    categories their items name, or every label for an item that names none."""
    if not allowed:
        return lambda label: False
    if any(not match.exempts for match in allowed):
        return lambda label: True
    categories = {name for match in allowed for name in match.exempts}
    return lambda label: taxonomy.top_level(label) in categories


def _strongest(matches: Sequence[HashMatch]) -> HashMatch | None:
    acting = [match for match in matches if match.action != ListAction.ALLOW]
    if not acting:
        return None
    return min(acting, key=lambda match: (-SEVERITY[match.action], match.distance))


def _matched(match: HashMatch) -> str:
    variant = "" if match.variant == VARIANTS[0] else f", as {match.variant.replace('_', ' ')}"
    when = "" if match.timestamp_ms is None else f" in the frame at {match.timestamp_ms} ms"
    return (
        f"the image{when} matches hash list '{match.list_name}' (item {match.item_id}, PDQ "
        f"distance {match.distance} of at most {match.max_distance} bits{variant}), whose "
        f"action is {match.action}: {match.origin()}"
    )


def _exempted(match: HashMatch, labels: Sequence[str]) -> str:
    what = ", ".join(match.exempts) if match.exempts else "every category"
    removed = f" (set aside: {', '.join(labels)})" if labels else ""
    return (
        f"hash list '{match.list_name}' item {match.item_id} (PDQ distance {match.distance}) "
        f"exempts {what}{removed}: {match.origin()}"
    )
