"""Moderating one image: intake, every enabled detector, labels, policy decision."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vigil import __version__
from vigil.detectors.base import Detection, Detector
from vigil.detectors.registry import DetectorSlot, load_slots, prepare
from vigil.errors import DetectorFailed, NotReady, VigilError
from vigil.labels import ModerationLabel, above, build_labels
from vigil.media.image import DecodedImage
from vigil.media.intake import ImageLimits, decode_image
from vigil.metrics import DETECTOR_SECONDS
from vigil.policy.context import PolicyContext, resolve_context
from vigil.policy.evaluate import evaluate
from vigil.policy.model import Decision, Policy
from vigil.service.adapters import Adapters
from vigil.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModerationResult:
    """What the detectors found in one image and what the policy decided about it."""

    image: DecodedImage
    labels: list[ModerationLabel]  # every label, however low; filtered only for display
    detections: list[Detection]  # what each detector said, before labels were merged
    model_version: str
    decision: Decision
    sha256: str  # of the uploaded bytes: the asset's digest and the QA-sample key
    content_types: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self, min_confidence: float) -> dict[str, Any]:
        """The public JSON shape shared by `vigil moderate` and ``POST /v1/moderate``."""
        return {
            "ModerationLabels": [label.to_dict() for label in above(self.labels, min_confidence)],
            "Detections": [
                found.to_dict()
                for found in sorted(self.detections, key=lambda d: -d.confidence)
                if found.confidence >= min_confidence
            ],
            "ModerationModelVersion": self.model_version,
            "ContentTypes": self.content_types,
            "decision": self.decision.to_dict(),
        }


class ModerationEngine:
    """Detectors loaded once and shared by every request. Each enabled detector is built and
    loaded on its own: one that fails is kept in ``slots`` with its error and left out of
    ``detectors``, and the others serve."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.limits = ImageLimits.from_settings(settings)
        self.slots: list[DetectorSlot] = prepare(
            settings.detectors, settings.inference_threads, settings.detector_options
        )
        self.detectors: list[Detector] = [s.detector for s in self.slots if s.detector]
        self.adapters = Adapters(settings)  # custom adapters, chosen per request
        self._loaded = threading.Event()

    @property
    def ready(self) -> bool:
        return self._loaded.is_set()

    @property
    def failures(self) -> dict[str, str]:
        """Each detector that could not be built or loaded, with the reason."""
        return {slot.name: slot.error or "" for slot in self.slots if slot.state == "failed"}

    def load(self) -> None:
        """Load every enabled detector; ``DetectorFailed`` when none of them could be."""
        load_slots(self.slots)
        for name, error in self.failures.items():
            log.error("detector %s is left out: %s", name, error)
        self.detectors = [s.detector for s in self.slots if s.detector and s.state == "loaded"]
        if self.slots and not self.detectors:
            reasons = "; ".join(self.failures.values())
            raise DetectorFailed(f"No detector could be loaded: {reasons}")
        self._loaded.set()

    @property
    def model_version(self) -> str:
        parts = ",".join(f"{d.name}@{d.version}" for d in self.detectors)
        return f"vigil-{__version__}:{parts}"

    def decode(self, data: bytes) -> DecodedImage:
        return decode_image(data, self.limits)

    def detect(
        self, images: list[DecodedImage], extra: Sequence[Detector] = ()
    ) -> list[list[Detection]]:
        """Detections for each image; every detector (``extra`` ones too) sees the batch once."""
        if not self.ready:
            raise NotReady("models are still loading; retry in a few seconds")
        per_image: list[list[Detection]] = [[] for _ in images]
        for detector in [*self.detectors, *extra]:
            with DETECTOR_SECONDS.labels(detector=detector.name).time():
                results = detector.detect(images)
            for found, detections in zip(per_image, results, strict=True):
                found.extend(detections)
        return per_image

    def moderate(
        self,
        data: bytes,
        policy: Policy,
        context: Mapping[str, str] | None = None,
        adapter: str | None = None,
    ) -> ModerationResult:
        (outcome,) = self.moderate_batch([data], policy, context, adapter)
        if isinstance(outcome, VigilError):
            raise outcome
        return outcome

    def moderate_batch(
        self,
        items: Sequence[bytes],
        policy: Policy,
        context: Mapping[str, str] | None = None,
        adapter: str | None = None,
    ) -> list[ModerationResult | VigilError]:
        """A result, or the refusal, for each item; decodable items share detector batches.
        ``context`` (region, audience, ...) is checked against the policy before any work, and
        so is ``adapter`` (a custom adapter run after the enabled detectors)."""
        resolved = resolve_context(policy, context or {}, datetime.now(UTC))
        extra = [self.adapters.get(adapter)] if adapter else []
        images = [self._decode_or_refusal(data) for data in items]
        decoded = [image for image in images if isinstance(image, DecodedImage)]
        found = iter(self.detect(decoded, extra) if decoded else [])
        outcomes: list[ModerationResult | VigilError] = []
        for data, image in zip(items, images, strict=True):
            if isinstance(image, VigilError):
                outcomes.append(image)
                continue
            # The QA sample is keyed on the bytes, so a retried upload makes the same choice.
            digest = hashlib.sha256(data).hexdigest()
            outcomes.append(self.decide(image, next(found), policy, resolved, digest))
        return outcomes

    def decide(
        self,
        image: DecodedImage,
        detections: list[Detection],
        policy: Policy,
        context: PolicyContext,
        sha256: str,
    ) -> ModerationResult:
        """Labels from one image's detections, and the policy's decision on them."""
        labels = build_labels(detections)
        decision = evaluate(labels, policy, context=context, sample_key=sha256)
        return ModerationResult(image, labels, detections, self.model_version, decision, sha256)

    def _decode_or_refusal(self, data: bytes) -> DecodedImage | VigilError:
        try:
            return self.decode(data)
        except VigilError as refusal:
            return refusal
