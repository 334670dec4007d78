"""Accepting an upload: checks, the blob, the asset row and its ``moderate`` job.

The bytes are stored first and the row, its job and its idempotency key are committed
together, so a crash leaves either nothing but an orphan blob (swept later) or an asset that
a worker will decide. A synchronous upload runs its own job in this process and waits up to
``wait`` seconds for the decision; after that it answers with the asset still processing.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import secrets
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from vigil.errors import (
    DatabaseUnavailable,
    EmptyFile,
    IdempotencyKeyReused,
    ImageTooLarge,
    InvalidParameter,
    StorageUnavailable,
    VideoTooLarge,
    VigilError,
)
from vigil.media.image import DecodedImage
from vigil.media.sniff import sniff
from vigil.media.video_formats import VideoKind, sniff_video, video_kind
from vigil.metrics import REFUSED, UPLOADS
from vigil.notify.targets import check_literal_target
from vigil.policy.cloudinary import ModerationPlan, apply_thresholds, parse_moderation
from vigil.policy.context import resolve_context
from vigil.queue.jobs import Job, JobQueue
from vigil.queue.worker import Handler, LeaseKeeper, QueueWorker, worker_name
from vigil.service.access.principal import (
    Principal,
    Role,
    require_role,
    require_skip_moderation,
)
from vigil.service.assets.processing import MODERATE, AssetProcessor
from vigil.service.assets.rows import asset_status, asset_view, run_steps
from vigil.service.core.audit import audit_row
from vigil.service.core.events import EVENT_FOR_STATUS, EventPublisher
from vigil.service.core.status import WAITING, Status
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.policies.presets import UploadOptions
from vigil.service.policies.repository import PolicyRepository
from vigil.service.video.jobs import MODERATE_VIDEO, VideoProcessor, new_video_row
from vigil.settings import Settings
from vigil.storage.blobs import Area, BlobStore
from vigil.storage.db import Database, database_refusal, is_busy
from vigil.storage.tables import AssetRow, IdempotencyKeyRow

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
SNIFF_BYTES = 64 * 1024
UNTIL_DECIDED = 24 * 3600.0  # a wait that in practice means "until it is decided"
INLINE_THREADS = 4  # synchronous uploads whose jobs run in this process at once


@dataclass(frozen=True)
class UploadRequest:
    """One upload's options, after presets were applied."""

    filename: str = ""
    options: UploadOptions = field(default_factory=UploadOptions)
    upload_preset: str | None = None
    adapter: str | None = None  # a custom adapter to run too (images only)

    @property
    def plan(self) -> ModerationPlan:
        return parse_moderation(self.options.moderation or "auto")

    def fingerprint(self, sha256: str) -> str:
        """What must match for a retry to count as the same request."""
        fields = {
            "sha256": sha256,
            "filename": self.filename,
            "moderation": self.options.moderation,
            "policy": self.options.policy,
            "context": self.options.context,
            "tags": list(self.options.tags),
            "notification_url": self.options.notification_url,
            "upload_preset": self.upload_preset,
        }
        if self.adapter:
            fields["adapter"] = self.adapter
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Media:
    format: str
    mime: str
    media_type: str  # image or video
    image: DecodedImage | None = None  # decoded already (synchronous image uploads)


@dataclass(frozen=True)
class UploadOutcome:
    asset: dict[str, Any]
    finished: bool  # False: still processing (HTTP 202)
    replayed: bool = False  # the first result of an earlier request with the same key


class UploadService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        blobs: BlobStore,
        engine: ModerationEngine,
        policies: PolicyRepository,
        queue: JobQueue,
        processor: AssetProcessor,
        events: EventPublisher,
        videos: VideoProcessor,
    ) -> None:
        self.settings = settings
        self.videos = videos
        self.db = db
        self.blobs = blobs
        self.engine = engine
        self.policies = policies
        self.queue = queue
        self.processor = processor
        self.events = events
        self._keeper: LeaseKeeper | None = None
        self._inline = ThreadPoolExecutor(INLINE_THREADS, thread_name_prefix="vigil-inline")

    def upload(self, data: bytes, request: UploadRequest, owner: Principal) -> dict[str, Any]:
        """Store and decide an upload in this process, waiting for the decision."""
        return self.submit(io.BytesIO(data), request, owner, wait=UNTIL_DECIDED).asset

    def submit(
        self,
        source: BinaryIO,
        request: UploadRequest,
        owner: Principal,
        *,
        run_async: bool = False,
        wait: float | None = None,
        idempotency_key: str | None = None,
    ) -> UploadOutcome:
        """Accept an upload. ``run_async`` answers as soon as it is stored; otherwise the
        decision is awaited up to ``wait`` seconds (None: the upload wait setting for images,
        no wait for videos, which a worker decides later)."""
        require_role(owner, Role.ADMIN, Role.UPLOADER)
        try:
            return self._submit(source, request, owner, run_async, wait, idempotency_key)
        except VigilError as refusal:
            REFUSED.labels(code=refusal.code).inc()
            raise

    def _submit(
        self,
        source: BinaryIO,
        request: UploadRequest,
        owner: Principal,
        run_async: bool,
        wait: float | None,
        idempotency_key: str | None,
    ) -> UploadOutcome:
        plan = request.plan
        if not plan.detects:  # moderation=none, asked for or from a preset (docs/keys.md)
            require_skip_moderation(owner, self.settings.moderation_none_any_uploader)
        if request.options.notification_url:
            check_literal_target(
                request.options.notification_url, self.settings.webhook_allow_private
            )
        policy_name = request.options.policy or self.settings.default_policy
        if plan.detects:
            self._check_policy(policy_name, plan, request.options.context)
        if request.adapter and plan.detects:
            self.engine.adapters.check(request.adapter)  # AdapterNotFound before any write
        sha256, size = self._digest(source)
        video = self._video_kind(source, size)
        if video and request.adapter:
            raise InvalidParameter("adapter applies to images only, not to videos")
        fingerprint = request.fingerprint(sha256)
        if idempotency_key:
            earlier = self._replay(owner, idempotency_key, fingerprint)
            if earlier is not None:
                return earlier
        media = self._media(source, video, plan.detects and run_async)
        asset_id = secrets.token_hex(12)
        self._store(source, asset_id)
        now = datetime.now(UTC)
        row = _new_row(asset_id, owner, request, plan, sha256, size, media, now)
        try:
            job_id = self._record(
                row, plan, policy_name, request, owner, idempotency_key, fingerprint
            )
        except IntegrityError:
            self.blobs.delete(Area.ORIGINALS, asset_id)
            # The same key raced us: the first request's asset stands.
            replay = idempotency_key and self._replay(owner, idempotency_key, fingerprint)
            if replay:
                return replay
            raise
        except OperationalError as exc:
            self.blobs.delete(Area.ORIGINALS, asset_id)
            if is_busy(exc):  # up but locked: the client should retry soon (Retry-After)
                raise database_refusal(exc) from exc
            raise DatabaseUnavailable(f"the database could not be reached: {exc.orig}") from exc
        except BaseException:
            self.blobs.delete(Area.ORIGINALS, asset_id)
            raise
        UPLOADS.labels(mode=plan.steps[0]).inc()
        # Videos take a while: unless the client asks to wait, a worker decides them later.
        wait = (0 if video else self.settings.upload_wait_seconds) if wait is None else wait
        if job_id is None or run_async or (video and wait <= 0):
            return UploadOutcome(self._view(asset_id), finished=job_id is None)
        return self._await(job_id, asset_id, media.image, wait)

    # -- checks before anything is written ---------------------------------------------------

    def _check_policy(
        self, policy_name: str, plan: ModerationPlan, context: Mapping[str, str]
    ) -> None:
        """Refuse an unknown policy or a context it doesn't accept now, not in the worker."""
        policy = apply_thresholds(self.policies.get(policy_name), plan.thresholds)
        resolve_context(policy, context, datetime.now(UTC))

    def _digest(self, source: BinaryIO) -> tuple[str, int]:
        """SHA-256 and size, read in chunks and refused past the size limit."""
        settings = self.settings
        digest, size = hashlib.sha256(), 0
        limit = max(settings.max_upload_bytes, settings.video_max_bytes)
        source.seek(0)
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ImageTooLarge(f"the upload is larger than the limit of {limit} bytes")
            digest.update(chunk)
        if size == 0:
            raise EmptyFile("The upload is empty (0 bytes); send the file's bytes.")
        source.seek(0)
        return digest.hexdigest(), size

    def _video_kind(self, source: BinaryIO, size: int) -> VideoKind | None:
        """The upload's video kind, or None for an image (held to the image size limit)."""
        head = _head(source)
        if size > self.settings.max_upload_bytes:  # an animation this large is refused below
            kind = sniff_video(head)
        else:
            kind = video_kind(head, lambda: _whole(source))
        if kind is None and size > self.settings.max_upload_bytes:
            raise ImageTooLarge(
                f"the image is larger than the limit of {self.settings.max_upload_bytes} bytes"
            )
        if kind is not None and size > self.settings.video_max_bytes:
            raise VideoTooLarge(
                f"the video is larger than the limit of {self.settings.video_max_bytes} bytes"
            )
        return kind

    def _media(self, source: BinaryIO, video: VideoKind | None, later: bool) -> Media:
        """What the row records about the bytes. Images are decoded now (refused now if
        broken) unless the upload is asynchronous; videos are read by their job."""
        if video is not None:
            return Media(video.format, video.mime, "video")
        if later:
            kind = sniff(_head(source))
            return Media(kind.format, kind.mime, "image")
        image = self._decode(source)
        return Media(image.format, image.mime, "image", image)

    def _decode(self, source: BinaryIO) -> DecodedImage:
        source.seek(0)
        image = self.engine.decode(source.read())
        source.seek(0)
        return image

    def _replay(self, owner: Principal, key: str, fingerprint: str) -> UploadOutcome | None:
        ttl = timedelta(hours=self.settings.idempotency_key_hours)
        with self.db.session() as session:
            remembered = session.get(IdempotencyKeyRow, (owner.key_id, key))
            if remembered is None:
                return None
            if remembered.created_at < datetime.now(UTC) - ttl:
                session.delete(remembered)  # expired: this request starts afresh
                return None
            if remembered.request_hash != fingerprint:
                raise IdempotencyKeyReused(
                    f"Idempotency-Key '{key}' was used for a different upload (another file "
                    "or other options); use a new key for a new upload"
                )
            asset = self._view_in(session, remembered.asset_id)
        return UploadOutcome(asset, finished=asset["status"] != Status.PROCESSING, replayed=True)

    # -- writing -----------------------------------------------------------------------------

    def _store(self, source: BinaryIO, asset_id: str) -> None:
        source.seek(0)
        try:
            self.blobs.put_file(Area.ORIGINALS, asset_id, source)
        except StorageUnavailable:
            raise
        except OSError as exc:
            raise StorageUnavailable(
                f"the upload could not be stored ({exc.strerror or exc}); nothing was recorded, "
                "retry later"
            ) from exc

    def _record(
        self,
        row: AssetRow,
        plan: ModerationPlan,
        policy_name: str,
        request: UploadRequest,
        owner: Principal,
        idempotency_key: str | None,
        fingerprint: str,
    ) -> int | None:
        """Commit the row, its audit event, its job and its key together. Returns the job."""
        status = Status(row.status)
        with self.db.session() as session:
            session.add(row)
            reason = f"moderation={plan.raw}"
            session.add(
                audit_row(row.id, "system", "created", None, status, reason, row.created_at)
            )
            if idempotency_key:
                session.add(
                    IdempotencyKeyRow(
                        owner_key_id=owner.key_id,
                        key=idempotency_key,
                        request_hash=fingerprint,
                        asset_id=row.id,
                        created_at=row.created_at,
                    )
                )
            if status.value in EVENT_FOR_STATUS:
                session.flush()
                view = asset_view(row, self.settings.min_confidence)
                self.events.publish(session, EVENT_FOR_STATUS[status.value], view)
            if row.media_type == "video":
                session.add(new_video_row(row, analysed=plan.detects))
            if not plan.detects:
                return None
            payload = {
                "asset_id": row.id,
                "policy": policy_name,
                "context": dict(request.options.context),
            }
            if request.adapter:
                payload["adapter"] = request.adapter
            kind = MODERATE_VIDEO if row.media_type == "video" else MODERATE
            return self.queue.enqueue(session, kind, payload)

    # -- waiting for the decision ------------------------------------------------------------

    def _await(
        self, job_id: int, asset_id: str, image: DecodedImage | None, wait: float | None
    ) -> UploadOutcome:
        job = self.queue.claim_job(job_id, worker_name(-1))
        if job is not None:  # run it here, with the image already decoded
            running = self._inline.submit(self._run_inline, job, asset_id, image)
            # After ``wait`` it goes on in the background; the client polls the status URL.
            with contextlib.suppress(WaitTimeout):
                running.result(timeout=wait)
        else:  # a worker took it first: watch the row
            self._poll(asset_id, wait)
        asset = self._view(asset_id)
        return UploadOutcome(asset, finished=asset["status"] != Status.PROCESSING)

    def _run_inline(self, job: Job, asset_id: str, image: DecodedImage | None) -> None:
        decoded = {asset_id: image} if image is not None else {}
        handlers = {
            MODERATE: Handler(
                lambda jobs: self.processor.process(jobs, decoded), dead=self.processor.abandon
            ),
            MODERATE_VIDEO: Handler(self.videos.process, dead=self.videos.abandon),
        }
        worker = QueueWorker(self.queue, handlers, self._lease_keeper(), name=worker_name(-1))
        worker.process([job])

    def _lease_keeper(self) -> LeaseKeeper:
        if self._keeper is None:
            self._keeper = LeaseKeeper(self.queue)
            self._keeper.start()
        return self._keeper

    def _poll(self, asset_id: str, wait: float | None) -> None:
        deadline = None if wait is None else time.monotonic() + wait
        while deadline is None or time.monotonic() < deadline:
            if self._view(asset_id)["status"] != Status.PROCESSING:
                return
            time.sleep(0.05)

    def _view(self, asset_id: str) -> dict[str, Any]:
        with self.db.session() as session:
            return self._view_in(session, asset_id)

    def _view_in(self, session: Session, asset_id: str) -> dict[str, Any]:
        # Read in the caller's session, never a second one: a thread that holds a connection
        # and waits for another deadlocks with its peers once they empty the pool together
        # (issue 16: retried uploads' replays answered 500 after the pool timeout).
        row = session.get(AssetRow, asset_id)
        assert row is not None
        return asset_view(row, self.settings.min_confidence)

    def purge_idempotency_keys(self) -> int:
        cutoff = datetime.now(UTC) - timedelta(hours=self.settings.idempotency_key_hours)
        with self.db.session() as session:
            result = session.execute(
                delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < cutoff)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def close(self) -> None:
        self._inline.shutdown(wait=True)
        if self._keeper is not None:
            self._keeper.stop()


def _head(source: BinaryIO) -> bytes:
    source.seek(0)
    head = source.read(SNIFF_BYTES)
    source.seek(0)
    return head


def _whole(source: BinaryIO) -> bytes:
    source.seek(0)
    data = source.read()
    source.seek(0)
    return data


def _new_row(
    asset_id: str,
    owner: Principal,
    request: UploadRequest,
    plan: ModerationPlan,
    sha256: str,
    size: int,
    media: Media,
    now: datetime,
) -> AssetRow:
    """The row as uploaded: processing when detectors will decide, else final already."""
    image = media.image
    steps = [] if plan.detects else run_steps(plan, None, now)
    status = Status.PROCESSING if plan.detects else asset_status(steps)
    options = request.options
    return AssetRow(
        id=asset_id,
        owner_key_id=owner.key_id,
        filename=request.filename[:500],
        format=media.format,
        mime=media.mime,
        media_type=media.media_type,
        size_bytes=size,
        width=image.width if image else 0,
        height=image.height if image else 0,
        sha256=sha256,
        status=status.value,
        moderation_mode=plan.raw,
        moderation_steps=steps,
        storage_area=Area.ORIGINALS.value,
        labels=[],
        detections=[],
        content_types=[],
        model_version="",
        decision=None,
        shadow_decision=None,
        upload_preset=request.upload_preset,
        tags=list(options.tags),
        notification_url=options.notification_url,
        review_due=status in WAITING,  # a manual upload waits for a person from the start
        created_at=now,
        updated_at=now,
    )
