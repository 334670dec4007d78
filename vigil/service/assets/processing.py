"""Turning a stored upload into a decision: the handler of ``moderate`` jobs.

It is idempotent, as at-least-once delivery requires: only an asset still ``processing`` is
decided, and the decision is written with a compare-and-set on that status, so a job that
runs twice (a worker killed after deciding, before completing the job) never produces a
second, different decision.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vigil import taxonomy
from vigil.errors import VigilError
from vigil.labels import read_text
from vigil.media.image import DecodedImage
from vigil.metrics import DECISIONS
from vigil.policy.cloudinary import ModerationPlan, apply_thresholds, parse_moderation
from vigil.policy.context import PolicyContext, resolve_context
from vigil.policy.model import Policy
from vigil.queue.jobs import Job
from vigil.service.assets.rows import asset_status, asset_view, run_steps
from vigil.service.core.audit import audit_row
from vigil.service.core.budget import Deadline
from vigil.service.core.events import EVENT_FOR_STATUS, EventPublisher
from vigil.service.core.machine_days import forget_day
from vigil.service.core.status import WAITING, Status, area_for
from vigil.service.engine.detection_cache import DetectionCache
from vigil.service.engine.moderation import ModerationEngine, ModerationResult
from vigil.service.hashlists.known import hash_values  # hash lists
from vigil.service.policies.repository import PolicyRepository
from vigil.service.policies.shadow import shadow_decision
from vigil.storage.blobs import Area, BlobStore
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow

log = logging.getLogger(__name__)

MODERATE = "moderate"  # the job kind

# Work done in the transaction that records an outcome, when that write wins.
Also = Callable[[Session], None] | None


@dataclass(frozen=True)
class PolicyChoice:
    plan: ModerationPlan
    policy: Policy
    resolved: PolicyContext
    context: dict[str, str]
    shadow: Policy | None  # the shadow candidate, thresholds applied


@dataclass
class _Work:
    job: Job
    row: AssetRow
    image: DecodedImage
    choice: PolicyChoice
    chosen: frozenset[str]  # the detectors its policies need


class AssetProcessor:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        engine: ModerationEngine,
        policies: PolicyRepository,
        events: EventPublisher,
        cache: DetectionCache,
        *,
        budget_seconds: float = 60.0,
    ) -> None:
        self.budget_seconds = budget_seconds  # of a batch of image jobs
        self.db = db
        self.blobs = blobs
        self.engine = engine
        self.policies = policies
        self.events = events
        self.cache = cache

    def process(
        self, jobs: Sequence[Job], decoded: Mapping[str, DecodedImage] | None = None
    ) -> list[BaseException | None]:
        """Decide each job's asset; the images of the batch share detector runs. ``decoded``
        holds images the caller already decoded (the synchronous upload path)."""
        outcomes: dict[int, BaseException | None] = {}
        work: list[_Work] = []
        # The policy pointers are read once per policy for the batch, not once per job (a
        # round trip each on PostgreSQL); a missing policy is not cached and fails each job.
        pointers = functools.cache(self.policies.with_shadow)
        # One budget for the batch: its images share the detector runs, so they share time.
        deadline = Deadline(self.budget_seconds)
        for job, row in self._rows(jobs):
            if row is None or row.status != Status.PROCESSING:
                outcomes[job.id] = None  # already decided by an earlier delivery
                continue
            try:
                image = (decoded or {}).get(row.id) or self._decode(row)
                deadline.check("decoding the image")
                choice = self.policy_choice(row, job.payload, pointers)
            except VigilError as refusal:  # undecodable, or the policy or context is gone
                self.fail(row, refusal)
                outcomes[job.id] = None
            except Exception as failure:  # storage trouble: retried with backoff
                outcomes[job.id] = failure
            else:
                chosen = self.engine.chosen(choice.policy, choice.shadow)
                work.append(_Work(job, row, image, choice, chosen))
        if work:
            images, digests = [w.image for w in work], [w.row.sha256 for w in work]
            owners = [w.row.owner_key_id for w in work]  # reuse stays within an owner
            found = self.cache.detect(
                self.engine, images, digests, [w.chosen for w in work], owners
            )
            added = self._adapter_detections(work)
            for item, detections in zip(work, found, strict=True):
                outcomes[item.job.id] = self._settle(
                    item, detections, added.get(item.job.id, []), deadline
                )
        return [outcomes[job.id] for job in jobs]

    def abandon(self, job: Job, error: str) -> None:
        """The job failed its last attempt with an unexpected error (``error``, kept in the
        job for admins): the asset fails with InternalError, so it leaves ``processing``."""
        row = self.processing_row(job)
        if row is not None:
            self.fail(row, gave_up(job))

    def processing_row(self, job: Job) -> AssetRow | None:
        """The job's asset while it is still ``processing``; None once it was decided."""
        with self.db.session() as session:
            row = session.get(AssetRow, str(job.payload["asset_id"]))
        return row if row is not None and row.status == Status.PROCESSING else None

    def _rows(self, jobs: Sequence[Job]) -> list[tuple[Job, AssetRow | None]]:
        ids = [str(job.payload["asset_id"]) for job in jobs]
        with self.db.session() as session:
            rows = {
                row.id: row for row in session.scalars(select(AssetRow).where(AssetRow.id.in_(ids)))
            }
        return [(job, rows.get(asset_id)) for job, asset_id in zip(jobs, ids, strict=True)]

    def _decode(self, row: AssetRow) -> DecodedImage:
        return self.engine.decode(self.blobs.get(Area(row.storage_area), row.id))

    def _adapter_detections(self, work: list[_Work]) -> dict[int, list[Any] | BaseException]:
        """Detections of the custom adapter each upload chose (docs/adapters.md), by job: one
        run per adapter for the batch, never cached; a failure stands for its uploads."""
        chosen: dict[str, list[_Work]] = {}
        for item in work:
            if name := item.job.payload.get("adapter"):
                chosen.setdefault(name, []).append(item)
        added: dict[int, list[Any] | BaseException] = {}
        for name, items in chosen.items():
            try:
                found = self.engine.adapters.get(name).detect([item.image for item in items])
            except Exception as failure:
                added.update((item.job.id, failure) for item in items)
            else:
                added.update((item.job.id, f) for item, f in zip(items, found, strict=True))
        return added

    def _settle(
        self,
        item: _Work,
        detections: list[Any],
        added: list[Any] | BaseException,
        deadline: Deadline,
    ) -> BaseException | None:
        try:
            if isinstance(added, BaseException):
                raise added
            deadline.check("running the detectors")
            self._decide(item, [*detections, *added])
        except VigilError as refusal:  # the policy is gone, the context invalid, time up
            self.fail(item.row, refusal)
        except Exception as failure:
            log.warning("deciding asset %s failed", item.row.id, exc_info=True)
            return failure
        return None

    def _decide(self, item: _Work, detections: list[Any]) -> None:
        choice = item.choice
        result = self.engine.decide(
            item.image, detections, choice.policy, choice.resolved, item.row.sha256, item.chosen
        )
        self.record(item.row, choice, result)

    def policy_choice(
        self,
        row: AssetRow,
        payload: Mapping[str, Any],
        pointers: Callable[[str], tuple[Policy, Policy | None]] | None = None,
    ) -> PolicyChoice:
        """The policy a job's asset is judged by (with its Cloudinary thresholds), the
        resolved context, and the shadow candidate if one runs; ``pointers`` reads a policy's
        active and shadow versions (default: from the repository)."""
        plan = parse_moderation(row.moderation_mode)
        chosen, candidate = (pointers or self.policies.with_shadow)(payload["policy"])
        policy = apply_thresholds(chosen, plan.thresholds)
        context = dict(payload.get("context") or {})
        resolved = resolve_context(policy, context, datetime.now(UTC))
        shadow = apply_thresholds(candidate, plan.thresholds) if candidate is not None else None
        return PolicyChoice(plan, policy, resolved, context, shadow)

    def record(
        self, row: AssetRow, choice: PolicyChoice, result: ModerationResult, also: Also = None
    ) -> None:
        """Write a machine decision (compare-and-set on ``processing``) with its shadow
        decision; ``also`` runs in the same transaction when the write wins."""
        shadow = (
            shadow_decision(result.labels, choice.shadow, choice.context, row.sha256)
            if choice.shadow is not None
            else None
        )
        now = datetime.now(UTC)
        steps = run_steps(choice.plan, result, now)
        status = asset_status(steps)
        values = _decided_values(result, steps, status, now)
        values["shadow_decision"] = shadow.to_dict() if shadow else None
        self._write(row, status, values, result.decision.reason, now, also)
        if status is not Status.PENDING:
            DECISIONS.labels(
                action=result.decision.action, category=_category(result), by="machine"
            ).inc()

    def _write(
        self,
        row: AssetRow,
        status: Status,
        values: dict[str, Any],
        reason: str,
        now: datetime,
        also: Also = None,
    ) -> None:
        """Move the blob where the status wants it, then compare-and-set the row."""
        source, target = Area(row.storage_area), area_for(status)
        if source is not target:
            self.blobs.copy(row.id, source, target)
        with self.db.session() as session:
            changed = session.execute(
                update(AssetRow)
                .where(AssetRow.id == row.id, AssetRow.status == Status.PROCESSING.value)
                .values(storage_area=target.value, **values)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return  # another delivery decided first; its decision stands
            forget_day(session, row.created_at)  # the dashboard's kept counts of its day
            session.add(
                audit_row(row.id, "system", "moderated", Status.PROCESSING, status, reason, now)
            )
            if status.value in EVENT_FOR_STATUS:
                fresh = session.get(AssetRow, row.id)
                assert fresh is not None
                view = asset_view(fresh, self.engine.settings.min_confidence)
                self.events.publish(session, EVENT_FOR_STATUS[status.value], view)
            if also is not None:
                also(session)
        if source is not target:
            self.blobs.delete(source, row.id)

    def fail(self, row: AssetRow, refusal: VigilError, also: Also = None) -> None:
        """The upload can't be processed: record why, and remove its bytes."""
        now = datetime.now(UTC)
        with self.db.session() as session:
            changed = session.execute(
                update(AssetRow)
                .where(AssetRow.id == row.id, AssetRow.status == Status.PROCESSING.value)
                .values(
                    status=Status.FAILED.value,
                    error={"code": refusal.code, "message": refusal.message},
                    updated_at=now,
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return
            session.add(
                audit_row(
                    row.id,
                    "system",
                    "failed",
                    Status.PROCESSING,
                    Status.FAILED,
                    refusal.message,
                    now,
                )
            )
            if also is not None:
                also(session)
        self.blobs.delete(Area(row.storage_area), row.id)


def gave_up(job: Job) -> VigilError:
    """The refusal an asset fails with when its job ran out of attempts on an unexpected
    error; its message names no internals, which stay in the job's ``last_error``."""
    return VigilError(
        f"vigil could not process this upload in {job.attempts} attempts (job {job.id}); "
        "the server log says why"
    )


def _decided_values(
    result: ModerationResult, steps: list[dict[str, Any]], status: Status, now: datetime
) -> dict[str, Any]:
    image = result.image
    return {
        "status": status.value,
        "format": image.format,
        "mime": image.mime,
        "width": image.width,
        "height": image.height,
        "moderation_steps": steps,
        "labels": [label.to_dict() for label in result.labels],
        "detections": [found.to_dict() for found in result.detections],
        "text": read_text(result.detections),
        "content_types": result.content_types,
        "model_version": result.model_version,
        "decision": _decision_view(result),
        # Columns the review queues and dashboard read instead of the JSON (0018).
        "qa_sample": result.decision.qa_sample,
        "machine_action": result.decision.action,
        **review_due(status, result.decision.qa_sample),
        "decided_at": now,
        "updated_at": now,
        **hash_values(result.known),  # hash lists: the PDQ hash, kept with the asset
    }


def review_due(status: Status, qa_sample: bool) -> dict[str, Any]:
    """Raise ``review_due`` when the review queues must follow the asset; never lower it
    here (only the queues' sync does, once they have followed)."""
    return {"review_due": True} if status in WAITING or qa_sample else {}


def _decision_view(result: ModerationResult) -> dict[str, Any]:
    """The stored decision, with what fusion changed (shown by ``explain``)."""
    view = result.decision.to_dict()
    if result.fusion:
        view["fusion"] = [adjustment.to_dict() for adjustment in result.fusion]
    return view


def _category(result: ModerationResult) -> str:
    """The top-level category behind the decision, for metrics ("none" if no label did it)."""
    name = result.decision.label
    return taxonomy.top_level(name) if name and taxonomy.is_label(name) else "none"
