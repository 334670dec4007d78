"""The app object: everything a running vigil needs, built once from settings.

This is the one composition root. It reads settings and hands each service the few values it
needs; API routes, console pages, CLI commands and workers take services from ``Vigil`` and
never construct their own (docs/layout.md)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.errors import InvalidParameter  # hash lists
from vigil.policy.sources import policy_sources
from vigil.settings import Settings

# Nothing heavy is imported at the top: `vigil init` and `vigil keys create` must not load the
# detector stack (onnx, PyAV, boto3), and `vigil moderate` answering from its snapshot of the
# policy (vigil/service/policies/one_shot_snapshot.py) not even SQLAlchemy. The database and
# the services are imported by the functions that use them.
if TYPE_CHECKING:
    from vigil.aws.rekognition import RekognitionService
    from vigil.policy.model import Policy
    from vigil.queue.jobs import JobQueue
    from vigil.queue.worker import Handler
    from vigil.service.access.client_ip import ProxyTrust
    from vigil.service.access.manage import KeyService
    from vigil.service.assets.archive import ArchiveRules, ArchiveService
    from vigil.service.assets.processing import AssetProcessor
    from vigil.service.assets.service import AssetService
    from vigil.service.assets.uploads import UploadService
    from vigil.service.core.events import EventPublisher
    from vigil.service.engine.moderation import ModerationEngine
    from vigil.service.hashlists.matcher import HashMatcher  # hash lists
    from vigil.service.hashlists.model import MatchRules  # hash lists
    from vigil.service.hashlists.service import HashListService  # hash lists
    from vigil.service.notices.alerts import AlertService
    from vigil.service.notices.webhooks import WebhookService
    from vigil.service.policies.presets import PresetRepository
    from vigil.service.policies.repository import PolicyRepository
    from vigil.service.review.appeals import AppealService
    from vigil.service.review.service import ReviewRules, ReviewService
    from vigil.service.review.sign_in_guard import SignInRules
    from vigil.service.review.users import UserService
    from vigil.service.video.jobs import VideoProcessor
    from vigil.service.video.service import VideoService
    from vigil.storage.blobs import BlobStore
    from vigil.storage.db import Database, PoolLimits


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
    hashlists: HashListService  # docs/hashlists.md
    proxies: ProxyTrust

    @cached_property
    def rekognition(self) -> RekognitionService:
        """The Rekognition-compatible surface, made on first use: it opens an S3 client, which
        most processes (the CLI, a worker without AWS ingest) never need."""
        from vigil.aws.rekognition import RekognitionService

        return RekognitionService(self)

    @cached_property
    def keys(self) -> KeyService:
        """Key management (docs/keys.md); it holds nothing but the database and a setting."""
        return key_service(self.db, self.settings)

    def policy(self, name: str | None = None) -> Policy:
        """The active version of ``name``, or of the default policy."""
        return self.policies.get(name or self.settings.default_policy)

    def job_handlers(self) -> dict[str, Handler]:
        """What each kind of job runs; moderation waits until the models are loaded."""
        from vigil.queue.worker import Handler, one_at_a_time
        from vigil.service.assets.processing import MODERATE
        from vigil.service.notices.alerts import JOB_KIND as ALERT_JOB
        from vigil.service.notices.webhooks import JOB_KIND as WEBHOOK_JOB
        from vigil.service.video.jobs import MODERATE_VIDEO

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
        if self.engine.known is not None and self.engine.known.db is self.db:  # hash lists
            self.engine.known = None  # a shared engine must not match against a closed db
        self.uploads.close()
        self.db.dispose()


def key_service(db: Database, settings: Settings) -> KeyService:
    """Built here for `vigil keys` too, which needs none of the rest of ``build``."""
    from datetime import timedelta

    from vigil.service.access.manage import KeyService
    from vigil.service.notices.signing_secrets import ServerSecret

    overlap = timedelta(hours=settings.key_rotation_overlap_hours)
    return KeyService(db, overlap, ServerSecret(db, settings))


def prepare_database(settings: Settings) -> None:
    """Create the data directory, apply migrations, import changed policy files as new
    versions, and check that the default policy exists."""
    from vigil.service.policies.repository import PolicyRepository
    from vigil.storage.db import Database

    db = Database(settings.resolved_database_url)  # connects on first use, after migrating
    try:
        _prepare(settings, PolicyRepository(db))
    finally:
        db.dispose()


def _prepare(settings: Settings, policies: PolicyRepository) -> None:
    """``prepare_database`` with the caller's repository, which keeps the policies it parsed."""
    from vigil.storage.db import migrate

    private_data_dir(settings.data_dir)
    migrate(settings.resolved_database_url)  # reads one row when the schema is already new
    if not settings.database_url:
        private_file(settings.data_dir / "vigil.db")
    policies.import_files(policy_sources(settings.policy_dir))
    policies.get(settings.default_policy)  # fail at start-up, not on first upload


def moderation_engine(
    settings: Settings, policy_name: str | None = None
) -> tuple[ModerationEngine, Policy]:
    """For a command that moderates files in its own process (`vigil moderate`, `vigil scan`):
    the active version of ``policy_name`` (default: the default policy), and an engine with
    the detectors it needs loaded and the hash lists attached as ``build`` attaches them. The
    other services are not built: they cost such a command more than half a second
    (docs/speed.md, "CLI start-up").

    The policy comes from the snapshot an earlier run stored when nothing it depends on has
    changed since (vigil/service/policies/one_shot_snapshot.py): the database then stays
    closed, as it may, since there is no hash-list item to match. Otherwise the database is
    prepared and read, and the snapshot stored for the next run."""
    from vigil.service.engine.moderation import ModerationEngine
    from vigil.service.policies import one_shot_snapshot

    name = policy_name or settings.default_policy
    rules = hashlist_rules(settings)  # refused as ``build`` refuses it, whichever path
    policy = one_shot_snapshot.cached_policy(settings, name)
    db = None
    if policy is None:
        db, policy = _read_policy(settings, name, rules.enabled)
    engine = ModerationEngine(settings, metrics=False)  # no /metrics to serve
    if db is not None:
        attach_hash_lists(engine, db, settings)
    engine.load([policy])
    return engine, policy


def _read_policy(settings: Settings, name: str, matching: bool) -> tuple[Database, Policy]:
    """``moderation_engine``'s database path: prepare it, read the active version of ``name``
    and store it for the next run if nothing needs the database then (``matching``: hash
    lists are on, and have items)."""
    from vigil.policy.loader import stored_version
    from vigil.service.hashlists.repository import counts
    from vigil.service.policies import one_shot_snapshot
    from vigil.service.policies.repository import PolicyRepository
    from vigil.storage.db import Database

    db = Database(settings.resolved_database_url, one_shot_pool_limits(settings))
    policies = PolicyRepository(db)
    _prepare(settings, policies)
    db.dispose()  # closing the last connection checkpoints the log: the files settle first
    seen = one_shot_snapshot.fingerprint(settings)
    number, source = policies.active_source(name)
    with db.session() as session:
        listed = matching and any(counts(session).values())
    db.dispose()
    if seen is not None and not listed:
        version = one_shot_snapshot.StoredVersion(name, number, source)
        one_shot_snapshot.store(settings, version, seen)
    return db, stored_version(name, number, source)


def private_data_dir(path: Path) -> None:
    """Create the data directory for vigil's user alone (0700): it holds every upload, the
    database with hashed keys, and the webhook secret. An existing one is left as it is: its
    owner may have opened it up on purpose."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        path.chmod(0o700)  # mkdir's mode is reduced by the umask; this is exact


def private_file(path: Path) -> None:
    """The SQLite database readable by vigil's user alone (0600); SQLite gives its -wal and
    -shm files the database's own mode."""
    if path.exists():
        path.chmod(0o600)


def prepare_storage(settings: Settings) -> str | None:
    """``prepare_database``, then create the first admin key. Returns that key's secret when
    one was created (shown once), else None."""
    from vigil.service.access.keys import ensure_admin_key
    from vigil.storage.db import Database

    prepare_database(settings)
    db = Database(settings.resolved_database_url)
    try:
        return ensure_admin_key(db)
    finally:
        db.dispose()


def build(
    settings: Settings, engine: ModerationEngine | None = None, *, worker_threads: int = 1
) -> Vigil:
    """The service objects. Detectors are created but not loaded (``engine.load()``) unless an
    already loaded ``engine`` is passed in; ``worker_threads`` queue workers will run."""
    from vigil.service.access.client_ip import ProxyTrust
    from vigil.service.assets.archive import ArchiveService
    from vigil.service.assets.processing import AssetProcessor
    from vigil.service.assets.service import AssetService
    from vigil.service.assets.uploads import UploadService
    from vigil.service.core.events import EventPublisher
    from vigil.service.engine.detection_cache import DetectionCache
    from vigil.service.engine.moderation import ModerationEngine
    from vigil.service.hashlists.feedback import DecisionFeedback  # hash lists
    from vigil.service.hashlists.service import HashListService  # hash lists
    from vigil.service.notices.alerts import AlertService
    from vigil.service.notices.sns import SnsNotifier
    from vigil.service.notices.webhooks import WebhookService
    from vigil.service.policies.presets import PresetRepository
    from vigil.service.policies.repository import PolicyRepository
    from vigil.service.review.appeals import AppealService
    from vigil.service.review.service import ReviewService
    from vigil.service.review.sign_in_guard import SignInGuard
    from vigil.service.review.users import UserService
    from vigil.service.video.jobs import VideoProcessor
    from vigil.service.video.service import VideoService
    from vigil.storage.db import Database
    from vigil.storage.open import open_blob_store

    db = Database(settings.resolved_database_url, pool_limits(settings, worker_threads))
    queue = open_queue(db, settings)
    blobs = open_blob_store(settings)
    engine = engine or ModerationEngine(settings)
    # --- hash lists (docs/hashlists.md): one matcher per process, fed by people's decisions
    matching, matcher = attach_hash_lists(engine, db, settings)
    # --- end hash lists
    policies = PolicyRepository(db)
    webhooks = WebhookService(db, queue, settings)
    alerts = AlertService(db, queue, settings)
    # Every event queues its webhook deliveries and alert e-mail in the transaction that
    # raised it, so a committed decision always has its notifications.
    events = EventPublisher(
        [
            webhooks.enqueue_deliveries,
            alerts.enqueue_alerts,
            SnsNotifier(queue, settings),
            DecisionFeedback(matching),  # hash lists: rejects and overturned blocks
        ]
    )
    cache = DetectionCache(
        db,
        enabled=settings.cache_enabled,
        size=settings.cache_size,
        phash_distance=settings.cache_phash_distance,
        shared=settings.cache_share_across_owners,
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
        presets=PresetRepository(db, policies, settings.default_policy),
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
        users=UserService(
            db, settings.review_session_hours, SignInGuard(sign_in_rules(settings), db)
        ),
        appeals=AppealService(db, assets),
        hashlists=HashListService(db, matching, matcher, engine.decode),
        proxies=ProxyTrust.parse(settings.trusted_proxies),
    )


# Threads besides the HTTP threads and the queue workers that use the database: the two lease
# keepers (the worker pool's and the synchronous uploads'), the maintenance thread and the
# model-loading thread; the synchronous uploads' runners are counted from their pool.
SERVICE_THREADS = 4


def pool_limits(settings: Settings, worker_threads: int = 1) -> PoolLimits:
    """One connection per thread that may use the database at once, unless
    VIGIL_DB_POOL_SIZE says otherwise: with fewer, threads wait on the pool behind threads that
    wait on a lock, and a burst of requests turns into pool timeouts."""
    from vigil.service.assets.uploads import INLINE_THREADS

    threads = settings.http_threads + worker_threads + INLINE_THREADS + SERVICE_THREADS
    return _pool_limits(settings, threads)


def one_shot_pool_limits(settings: Settings) -> PoolLimits:
    """``pool_limits`` for a command that serves no requests and runs no workers: few of its
    threads use the database, so SQLAlchemy's default size is ample (and importing the upload
    service for its thread count would cost such a command most of a second)."""
    from vigil.storage.db import PoolLimits

    return _pool_limits(settings, PoolLimits().size)


def _pool_limits(settings: Settings, threads: int) -> PoolLimits:
    from vigil.storage.db import PoolLimits

    return PoolLimits(
        size=settings.db_pool_size or threads,
        timeout_seconds=settings.db_pool_timeout_seconds,
        lock_timeout_seconds=settings.db_lock_timeout_seconds,
    )


def sign_in_rules(settings: Settings) -> SignInRules:
    from vigil.service.review.sign_in_guard import SignInRules

    return SignInRules(
        attempts_per_ip=settings.login_attempts_per_ip,
        window_seconds=settings.login_window_seconds,
        lockout_failures=settings.login_lockout_failures,
        lockout_seconds=settings.login_lockout_seconds,
        max_concurrent_hashes=settings.login_max_concurrent_hashes,
        hash_wait_seconds=settings.login_hash_wait_seconds,
    )


def attach_hash_lists(
    engine: ModerationEngine, db: Database, settings: Settings
) -> tuple[MatchRules, HashMatcher]:
    """Hash lists (docs/hashlists.md): give ``engine`` the process's matcher when they are
    enabled; the rules and the matcher, for the services that feed and edit the lists."""
    from vigil.service.hashlists.known import KnownContent
    from vigil.service.hashlists.matcher import HashMatcher

    matching = hashlist_rules(settings)
    matcher = HashMatcher(db, matching)
    engine.known = KnownContent(db, matcher) if matching.enabled else None
    return matching, matcher


def hashlist_rules(settings: Settings) -> MatchRules:
    """Hash lists (docs/hashlists.md): how this vigil matches and learns from people."""
    from vigil.service.hashlists.model import ListAction, MatchRules, parse_action

    rejected = parse_action(settings.hashlist_rejected_action)
    if rejected is ListAction.ALLOW:
        raise InvalidParameter("VIGIL_HASHLIST_REJECTED_ACTION must be block or review")
    return MatchRules(
        enabled=settings.hashlists_enabled,
        quality_floor=settings.hashlist_quality_floor,
        refresh_seconds=settings.hashlist_refresh_seconds,
        rejected_action=rejected,
        allow_distance=settings.hashlist_allow_distance,
        reject_feedback=settings.hashlist_reject_feedback,
        approve_feedback=settings.hashlist_approve_feedback,
    )


def archive_rules(settings: Settings) -> ArchiveRules:
    from vigil.service.assets.archive import ArchiveRules

    return ArchiveRules(
        after_days=settings.archive_after_days,
        images=settings.archive_images,
        min_confidence=settings.min_confidence,
    )


def review_rules(settings: Settings) -> ReviewRules:
    from vigil.service.review.service import ReviewRules

    return ReviewRules(
        double_categories=settings.review_double_categories,
        claim_seconds=settings.review_claim_seconds,
        reject_reasons=settings.review_reject_reasons,
        min_confidence=settings.min_confidence,
    )


def open_queue(db: Database, settings: Settings) -> JobQueue:
    from vigil.queue.jobs import JobQueue, RetryPolicy

    retry = RetryPolicy(
        max_attempts=settings.job_max_attempts,
        backoff_seconds=settings.job_backoff_seconds,
        backoff_max_seconds=settings.job_backoff_max_seconds,
    )
    return JobQueue(db, lease_seconds=settings.job_lease_seconds, retry=retry)
