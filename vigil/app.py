"""The app object: everything a running vigil needs, built once from settings.

This is the one composition root. It reads settings and hands each service the few values it
needs; API routes, console pages, CLI commands and workers take services from ``Vigil`` and
never construct their own (docs/layout.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from vigil.policy.model import Policy
from vigil.policy.sources import policy_sources
from vigil.queue.jobs import JobQueue, RetryPolicy
from vigil.queue.worker import Handler, one_at_a_time
from vigil.service.access.keys import ensure_admin_key
from vigil.service.assets.archive import ArchiveRules, ArchiveService
from vigil.service.assets.processing import MODERATE, AssetProcessor
from vigil.service.assets.service import AssetService
from vigil.service.assets.uploads import UploadService
from vigil.service.core.events import EventPublisher
from vigil.service.engine.detection_cache import DetectionCache
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.notices.alerts import JOB_KIND as ALERT_JOB
from vigil.service.notices.alerts import AlertService
from vigil.service.notices.sns import SnsNotifier
from vigil.service.notices.webhooks import JOB_KIND as WEBHOOK_JOB
from vigil.service.notices.webhooks import WebhookService
from vigil.service.policies.presets import PresetRepository
from vigil.service.policies.repository import PolicyRepository
from vigil.service.review.appeals import AppealService
from vigil.service.review.service import ReviewRules, ReviewService
from vigil.service.review.users import UserService
from vigil.service.video.jobs import MODERATE_VIDEO, VideoProcessor
from vigil.service.video.service import VideoService
from vigil.settings import Settings
from vigil.storage.blobs import BlobStore
from vigil.storage.db import Database, migrate
from vigil.storage.open import open_blob_store

if TYPE_CHECKING:
    from vigil.aws.rekognition import RekognitionService


@dataclass
class Vigil:
    settings: Settings
    db: Database
    blobs: BlobStore
    engine: ModerationEngine
    policies: PolicyRepository
    presets: PresetRepository
    assets: AssetService
    queue: JobQueue
    events: EventPublisher
    processor: AssetProcessor
    uploads: UploadService
    alerts: AlertService
    webhooks: WebhookService
    archive: ArchiveService
    videos: VideoService
    video_processor: VideoProcessor
    review: ReviewService
    users: UserService
    appeals: AppealService

    @cached_property
    def rekognition(self) -> RekognitionService:
        """The Rekognition-compatible surface, made on first use: it opens an S3 client, which
        most processes (the CLI, a worker without AWS ingest) never need."""
        from vigil.aws.rekognition import RekognitionService

        return RekognitionService(self)

    def policy(self, name: str | None = None) -> Policy:
        """The active version of ``name``, or of the default policy."""
        return self.policies.get(name or self.settings.default_policy)

    def job_handlers(self) -> dict[str, Handler]:
        """What each kind of job runs; moderation waits until the models are loaded."""
        ready = lambda: self.engine.ready  # noqa: E731
        return {
            MODERATE: Handler(self.processor.process, ready=ready, dead=self.processor.abandon),
            MODERATE_VIDEO: Handler(
                self.video_processor.process, ready=ready, dead=self.video_processor.abandon
            ),
            WEBHOOK_JOB: Handler(one_at_a_time(self.webhooks.deliver)),
            ALERT_JOB: Handler(one_at_a_time(self.alerts.send)),
        }

    def close(self) -> None:
        self.uploads.close()
        self.db.dispose()


def prepare_database(settings: Settings) -> None:
    """Create the data directory, apply migrations, import changed policy files as new
    versions, and check that the default policy exists."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        policies = PolicyRepository(db)
        policies.import_files(policy_sources(settings.policy_dir))
        policies.get(settings.default_policy)  # fail at start-up, not on first upload
    finally:
        db.dispose()


def prepare_storage(settings: Settings) -> str | None:
    """``prepare_database``, then create the first admin key. Returns that key's secret when
    one was created (shown once), else None."""
    prepare_database(settings)
    db = Database(settings.resolved_database_url)
    try:
        return ensure_admin_key(db)
    finally:
        db.dispose()


def build(settings: Settings, engine: ModerationEngine | None = None) -> Vigil:
    """The service objects. Detectors are created but not loaded (``engine.load()``) unless an
    already loaded ``engine`` is passed in."""
    db = Database(settings.resolved_database_url)
    queue = open_queue(db, settings)
    blobs = open_blob_store(settings)
    engine = engine or ModerationEngine(settings)
    policies = PolicyRepository(db)
    webhooks = WebhookService(db, queue, settings)
    alerts = AlertService(db, queue, settings)
    # Every event queues its webhook deliveries and alert e-mail in the transaction that
    # raised it, so a committed decision always has its notifications.
    events = EventPublisher(
        [webhooks.enqueue_deliveries, alerts.enqueue_alerts, SnsNotifier(queue, settings)]
    )
    cache = DetectionCache(
        db,
        enabled=settings.cache_enabled,
        size=settings.cache_size,
        phash_distance=settings.cache_phash_distance,
    )
    processor = AssetProcessor(
        db, blobs, engine, policies, events, cache, budget_seconds=settings.image_budget_seconds
    )
    videos = VideoProcessor(db, blobs, processor, events, settings)
    uploads = UploadService(settings, db, blobs, engine, policies, queue, processor, events, videos)
    assets = AssetService(db, blobs, engine, policies, events)
    return Vigil(
        settings=settings,
        db=db,
        blobs=blobs,
        engine=engine,
        policies=policies,
        presets=PresetRepository(db, policies),
        assets=assets,
        queue=queue,
        events=events,
        processor=processor,
        uploads=uploads,
        alerts=alerts,
        webhooks=webhooks,
        archive=ArchiveService(db, blobs, archive_rules(settings)),
        videos=VideoService(db, blobs, assets),
        video_processor=videos,
        review=ReviewService(db, assets, review_rules(settings)),
        users=UserService(db, settings.review_session_hours),
        appeals=AppealService(db, assets),
    )


def archive_rules(settings: Settings) -> ArchiveRules:
    return ArchiveRules(
        after_days=settings.archive_after_days,
        images=settings.archive_images,
        min_confidence=settings.min_confidence,
    )


def review_rules(settings: Settings) -> ReviewRules:
    return ReviewRules(
        double_categories=settings.review_double_categories,
        claim_seconds=settings.review_claim_seconds,
        reject_reasons=settings.review_reject_reasons,
        min_confidence=settings.min_confidence,
    )


def open_queue(db: Database, settings: Settings) -> JobQueue:
    retry = RetryPolicy(
        max_attempts=settings.job_max_attempts,
        backoff_seconds=settings.job_backoff_seconds,
        backoff_max_seconds=settings.job_backoff_max_seconds,
    )
    return JobQueue(db, lease_seconds=settings.job_lease_seconds, retry=retry)
