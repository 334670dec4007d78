"""Moderating one image: intake, every enabled detector, labels, policy decision."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vigil import __version__
from vigil.detectors import providers
from vigil.detectors.base import Detection, Detector
from vigil.detectors.registry import DetectorSlot, load_slots, prepare
from vigil.errors import DetectorFailed, NotReady, VigilError
from vigil.labels import ModerationLabel, above, build_labels, text_detections
from vigil.media.image import DecodedImage
from vigil.media.intake import ImageLimits, decode_image
from vigil.policy.context import PolicyContext, resolve_context
from vigil.policy.evaluate import evaluate
from vigil.policy.model import Decision, Policy
from vigil.service.engine.adapters import Adapters
from vigil.service.engine.detector_demand import acted_on_any, wanted
from vigil.service.engine.fusion import Adjustment, fuse
from vigil.settings import Settings

if TYPE_CHECKING:
    from prometheus_client import Histogram

    # hash lists: the matcher reads the database, which `vigil moderate` may not open
    from vigil.service.hashlists.known import KnownCheck, KnownContent

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
    fusion: list[Adjustment] = field(default_factory=list)  # confidences fusion lowered
    known: KnownCheck | None = None  # hash lists: the PDQ hash and list matches

    def to_dict(self, min_confidence: float) -> dict[str, Any]:
        """The public JSON shape shared by `vigil moderate` and ``POST /v1/moderate``."""
        return {
            "ModerationLabels": [label.to_dict() for label in above(self.labels, min_confidence)],
            "Detections": [
                found.to_dict()
                for found in sorted(self.detections, key=lambda d: -d.confidence)
                if found.confidence >= min_confidence and not found.is_text_line
            ],
            "TextDetections": text_detections(self.detections),
            "ModerationModelVersion": self.model_version,
            "ContentTypes": self.content_types,
            "Fusion": [adjustment.to_dict() for adjustment in self.fusion],
            "decision": self.decision.to_dict(),
        }


class ModerationEngine:
    """Detectors loaded once and shared by every request. Each enabled detector is built and
    loaded on its own: one that fails is kept in ``slots`` with its error and left out of
    ``detectors``, and the others serve."""

    def __init__(self, settings: Settings, *, metrics: bool = True) -> None:
        """``metrics=False``: record no detector timings, for a command that serves no
        /metrics (`vigil moderate`); it then never imports prometheus_client."""
        self.settings = settings
        self._detector_seconds = _detector_seconds() if metrics else None
        self.limits = ImageLimits.from_settings(settings)
        # Before any detector is built: each takes its precision from the providers, and a
        # provider this onnxruntime lacks stops the start here (ProviderUnavailable).
        providers.use(settings.execution_providers)
        started = time.perf_counter()
        self.slots: list[DetectorSlot] = prepare(
            settings.detectors,
            settings.inference_threads,
            settings.detector_options,
            shared={"models_dir": str(settings.resolved_models_dir)},
        )
        self.detectors: list[Detector] = [s.detector for s in self.slots if s.detector]
        log.debug("engine: built %d detectors in %.3f s", len(self.slots), _since(started))
        self.adapters = Adapters(settings)  # custom adapters, chosen per request
        self.known: KnownContent | None = None  # hash lists, set by the app object
        self._loaded = threading.Event()
        # One thread per detector (and one for an adapter), shared by every request: a
        # detector's single-threaded stretches overlap the others' inference (docs/speed.md).
        self._pool = ThreadPoolExecutor(len(self.slots) + 1, thread_name_prefix="detector")

    @property
    def ready(self) -> bool:
        return self._loaded.is_set()

    def close(self) -> None:
        """Stop the detector threads, for a command that is done moderating; a process that
        still has them cannot end before the interpreter has joined them."""
        self._pool.shutdown()

    @property
    def failures(self) -> dict[str, str]:
        """Each detector that could not be built or loaded, with the reason."""
        return {slot.name: slot.error or "" for slot in self.slots if slot.state == "failed"}

    def load(self, policies: Sequence[Policy] = ()) -> None:
        """Load every enabled detector, or with ``policies`` only those they need (a one-shot
        command's on-demand detectors the policy never asks for stay unloaded and unused);
        ``DetectorFailed`` when none of them could be."""
        started = time.perf_counter()
        acted = acted_on_any(policies)
        slots = [
            s for s in self.slots if not policies or not s.detector or wanted(s.detector, acted)
        ]
        load_slots(slots)
        for name, error in self.failures.items():
            log.error("detector %s is left out: %s", name, error)
        self.detectors = [s.detector for s in slots if s.detector and s.state == "loaded"]
        if self.slots and not self.detectors:
            reasons = "; ".join(self.failures.values())
            raise DetectorFailed(f"No detector could be loaded: {reasons}")
        self._loaded.set()
        log.debug("engine: loaded %d detectors in %.3f s", len(self.detectors), _since(started))

    @property
    def model_version(self) -> str:
        """Every loaded detector's name and version."""
        return self.version_of(None)

    def version_of(self, names: frozenset[str] | None) -> str:
        """The model version of the loaded detectors called ``names`` (``None``: all): what
        ``ModerationModelVersion`` shows and the duplicate cache is keyed by."""
        chosen = [d for d in self.detectors if names is None or d.name in names]
        parts = ",".join(f"{d.name}@{d.version}" for d in chosen)
        return f"vigil-{__version__}:{parts}"

    def chosen(self, *policies: Policy | None) -> frozenset[str]:
        """The loaded detectors an upload judged by ``policies`` (its policy and any shadow
        candidate) needs: on-demand ones only where a policy acts on their labels."""
        acted = acted_on_any(policy for policy in policies if policy is not None)
        return frozenset(d.name for d in self.detectors if wanted(d, acted))

    def decode(self, data: bytes) -> DecodedImage:
        return decode_image(data, self.limits)

    def detect(
        self,
        images: list[DecodedImage],
        extra: Sequence[Detector] = (),
        chosen: Sequence[frozenset[str]] | None = None,
    ) -> list[list[Detection]]:
        """Detections for each image. Each detector sees, in one batch, the images whose
        ``chosen`` names it (``None``: every image); ``extra`` ones see them all."""
        if not self.ready:
            raise NotReady("models are still loading; retry in a few seconds")
        runs: list[tuple[Detector, list[int]]] = []
        for detector in [*self.detectors, *extra]:
            wanted = [
                index
                for index in range(len(images))
                if chosen is None or detector in extra or detector.name in chosen[index]
            ]
            if wanted:
                runs.append((detector, wanted))
        per_image: list[list[Detection]] = [[] for _ in images]
        # Results are merged in detector order, whichever finishes first.
        for (_, wanted), results in zip(runs, self._run_all(runs, images), strict=True):
            for index, detections in zip(wanted, results, strict=True):
                per_image[index].extend(detections)
        return per_image

    def _run_all(
        self, runs: list[tuple[Detector, list[int]]], images: list[DecodedImage]
    ) -> list[list[list[Detection]]]:
        """Each detector on its images: at the same time (``parallel_detectors``) or in turn.
        The first failure, in detector order, is raised."""

        def run(detector: Detector, wanted: list[int]) -> list[list[Detection]]:
            with self._timed(detector):
                return detector.detect([images[index] for index in wanted])

        if not self.settings.parallel_detectors or len(runs) < 2:
            return [run(detector, wanted) for detector, wanted in runs]
        futures = [self._pool.submit(run, detector, wanted) for detector, wanted in runs]
        return [future.result() for future in futures]

    def _timed(self, detector: Detector) -> AbstractContextManager[Any]:
        """Times one detector's batch into the metrics, where this engine records them."""
        if self._detector_seconds is None:
            return nullcontext()
        return self._detector_seconds.labels(detector=detector.name).time()

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
        chosen = self.chosen(policy)
        found = iter(self.detect(decoded, extra, [chosen] * len(decoded)) if decoded else [])
        outcomes: list[ModerationResult | VigilError] = []
        for data, image in zip(items, images, strict=True):
            if isinstance(image, VigilError):
                outcomes.append(image)
                continue
            # The QA sample is keyed on the bytes, so a retried upload makes the same choice.
            digest = hashlib.sha256(data).hexdigest()
            outcomes.append(self.decide(image, next(found), policy, resolved, digest, chosen))
        return outcomes

    def decide(
        self,
        image: DecodedImage,
        detections: list[Detection],
        policy: Policy,
        context: PolicyContext,
        sha256: str,
        chosen: frozenset[str] | None = None,
    ) -> ModerationResult:
        """Labels from one image's detections, and the policy's decision on them; ``chosen``
        names the detectors that ran (``None``: all)."""
        ran = chosen if chosen is not None else {d.name for d in self.detectors}
        fused = fuse(detections, ran, enabled=self.settings.fusion)
        # --- hash lists (docs/hashlists.md): match the image; exempt and add labels
        known = self.known.check(image, fused.detections) if self.known else None
        # --- end hash lists
        labels = build_labels(known.detections if known else fused.detections)
        decision = evaluate(labels, policy, context=context, sample_key=sha256)
        # --- hash lists: a listed action outranks the detectors' bands
        if known:
            decision, detections = known.decide(decision), known.stored(detections)
        # --- end hash lists
        version = self.version_of(chosen)
        adjust = fused.adjustments
        return ModerationResult(
            image, labels, detections, version, decision, sha256, fusion=adjust, known=known
        )

    def _decode_or_refusal(self, data: bytes) -> DecodedImage | VigilError:
        try:
            return self.decode(data)
        except VigilError as refusal:
            return refusal


def _since(started: float) -> float:
    return time.perf_counter() - started


def _detector_seconds() -> Histogram:
    """The detector-time histogram /metrics serves; imported here, as prometheus_client and
    its HTTP stack cost a one-shot command 20 ms it has no use for (docs/speed.md)."""
    from vigil.metrics import DETECTOR_SECONDS

    return DETECTOR_SECONDS
