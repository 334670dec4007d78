"""Every setting, its default and its help text. Sources, highest first: environment variables
(``VIGIL_<NAME>``), the settings file (TOML; ``VIGIL_SETTINGS_FILE``, default ``./vigil.toml``
if present), then the defaults below."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from vigil.errors import InvalidParameter

ENV_PREFIX = "VIGIL_"
DEFAULT_SETTINGS_FILE = "vigil.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    data_dir: Path = Field(Path(".vigil"), description="Where the database and blobs live.")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite at DATA_DIR/vigil.db."
    )
    http_threads: int = Field(
        40,
        ge=1,
        description="Threads that run the HTTP API's handlers (each may hold one database "
        "connection); more requests wait for a free thread.",
    )
    db_pool_size: int = Field(
        0,
        ge=0,
        description="Database connections one process opens at most; 0: one per thread that "
        "uses the database (HTTP_THREADS plus the worker's threads).",
    )
    db_pool_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a request waits for a free database connection before 503 "
        "ServiceBusy.",
    )
    db_lock_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a statement waits for a lock (SQLite's write lock, a PostgreSQL "
        "row lock) before 503 ServiceBusy.",
    )
    models_dir: Path | None = Field(
        None,
        description="Downloaded model weights (the clip detector's), one folder per model; "
        "empty: DATA_DIR/models.",
    )
    blob_dir: Path | None = Field(
        None, description="Local blob store root; empty means DATA_DIR/blobs."
    )
    adapter_dir: Path | None = Field(
        None, description="Where trained custom adapters live; empty means DATA_DIR/adapters."
    )
    host: str = Field("127.0.0.1", description="Address `vigil serve` listens on.")
    port: int = Field(8000, description="Port `vigil serve` listens on.")
    max_upload_bytes: int = Field(
        20 * 1024 * 1024, description="Largest upload accepted, in bytes (ImageTooLarge above)."
    )
    max_request_bytes: int = Field(
        1024 * 1024,
        description="Largest request body of routes that take no upload (policies, JSON, "
        "console forms), in bytes (RequestTooLarge above).",
    )
    max_pixels: int = Field(
        50_000_000, description="Largest image accepted, in pixels, checked before decoding."
    )
    max_side: int = Field(10_000, description="Longest side accepted, in pixels.")
    min_side: int = Field(
        80, description="Shortest side accepted, in pixels (ImageTooSmall below)."
    )
    detectors: Annotated[list[str], NoDecode] = Field(
        ["nsfw", "nudity", "graphic", "objects", "symbols", "gesture", "text"],
        description="Enabled detectors, comma-separated (nsfw, nudity, graphic, objects, "
        "symbols, gesture, text, "
        "or any installed plugin's name; `vigil detectors` lists them). gesture and text run "
        "only for uploads whose policy acts on their labels.",
    )
    detector_options: dict[str, dict[str, Any]] = Field(
        {},
        description="Options per detector, passed to its constructor as keyword arguments: "
        'a TOML table or JSON, e.g. {"nudity": {"score_threshold": 0.3}}.',
    )
    inference_threads: int = Field(
        0, description="onnxruntime intra-op threads per model; 0 lets onnxruntime decide."
    )
    execution_providers: Annotated[list[str], NoDecode] = Field(
        ["cpu"],
        description="onnxruntime execution providers of every model, in order, comma-separated: "
        "cpu, cuda, tensorrt, rocm, openvino, dml, coreml or onnxruntime's own names "
        "(CUDAExecutionProvider); cpu is always added last. One the installed onnxruntime "
        "lacks is refused at start-up (ProviderUnavailable; docs/gpu.md).",
    )
    fusion: bool = Field(
        True,
        description="Let detectors corroborate one another before labels are built: a "
        "NudeNet region the whole-image classifiers do not back, or a whole-image Explicit "
        "with no exposed region, is lowered (docs/detectors.md#fusion). Raw detections are "
        "kept either way.",
    )
    parallel_detectors: bool = Field(
        True,
        description="Run the detectors of a batch at the same time, each on its own thread "
        "(false: one after another).",
    )
    min_confidence: float = Field(
        50.0, description="Labels below this confidence (0-100) are not reported."
    )
    default_policy: str = Field("default", description="Policy used when a request names none.")
    policy_dir: Path | None = Field(
        None, description="Extra directory of policy YAML files; same names override built-ins."
    )
    worker_interval_seconds: float = Field(
        30.0, description="How often the background worker runs its maintenance pass."
    )
    orphan_grace_seconds: float = Field(
        600.0, description="Blobs with no asset row older than this are removed by the worker."
    )

    video_max_bytes: int = Field(
        500 * 1024 * 1024, description="Largest video upload accepted, in bytes."
    )
    video_max_duration_seconds: float = Field(
        1800.0, description="Longest video accepted, in seconds (VideoTooLarge above)."
    )
    video_max_side: int = Field(
        4096, description="Widest or tallest video frame accepted, in pixels."
    )
    video_sample_fps: float = Field(
        1.0, description="Frames per second of video that are analysed, besides scene changes."
    )
    video_scene_threshold: float = Field(
        20.0,
        description="How much of the luma histogram (0-100) must change between decoded "
        "frames to mark a scene change.",
    )
    video_dedupe_distance: int = Field(
        6,
        description="Sampled frames within this perceptual-hash distance (0-64) of the last "
        "analysed frame reuse its labels instead of running the detectors; -1 turns it off.",
    )
    video_segment_gap_ms: int = Field(
        2000, description="Detections of a label this close together merge into one segment."
    )
    video_early_stop: bool = Field(
        False, description="Stop analysing a video once one frame is certainly blocked."
    )
    video_batch_size: int = Field(16, description="Video frames sent to the detectors at once.")
    image_budget_seconds: float = Field(
        60.0,
        description="Time budget of an image's job; past it the asset fails with "
        "TimeBudgetExceeded and the worker goes on.",
    )
    video_budget_seconds: float = Field(
        60.0,
        description="Time budget of a video's job beyond VIDEO_BUDGET_FACTOR times its "
        "duration; past it the asset fails with TimeBudgetExceeded.",
    )
    video_budget_factor: float = Field(
        2.0, description="Seconds of a video job's budget per second of the video."
    )

    blob_url: str = Field(
        "", description="Blob store: empty for the local directory, or s3://bucket[/prefix]."
    )
    s3_endpoint_url: str = Field(
        "", description="S3 endpoint for S3-compatible stores; empty means AWS."
    )
    s3_region: str = Field("us-east-1", description="S3 region.")
    job_lease_seconds: float = Field(
        60.0, description="How long a worker holds a job before it returns to the queue."
    )
    job_max_attempts: int = Field(
        5, description="Attempts before a job moves to the dead-letter state."
    )
    job_backoff_seconds: float = Field(
        2.0, description="First retry delay; doubles with each attempt."
    )
    job_backoff_max_seconds: float = Field(300.0, description="Longest retry delay.")
    worker_threads: int = Field(
        3,
        ge=1,
        le=64,
        description="Queue worker threads in `vigil serve`, and `vigil worker`'s default: while "
        "one writes its batch's decisions, another's images are in the detectors.",
    )
    worker_batch_size: int = Field(
        8, description="Jobs a worker claims at once, so inference batches fill."
    )
    worker_batch_wait_ms: int = Field(
        20,
        description="When fewer jobs than the batch size are queued, how long a worker waits "
        "for more before running the batch; 0 runs at once.",
    )
    cache_enabled: bool = Field(
        True, description="Reuse detections for exact and near-duplicate re-uploads."
    )
    cache_phash_distance: int = Field(
        2,
        description="Near-duplicate reuse: perceptual-hash distance (0-64 bits) within which a "
        "recent image's detections are reused; -1 turns it off.",
    )
    cache_size: int = Field(
        4096, description="Recent images whose detections each process keeps for reuse."
    )
    cache_share_across_owners: bool = Field(
        False,
        description="Reuse detections of another key's upload of the same image: faster, but "
        "how fast an upload answers tells its uploader whether someone else sent that image.",
    )
    # --- hash lists (docs/hashlists.md) ---
    hashlists_enabled: bool = Field(
        True,
        description="Hash every image and video frame (PDQ) and match it against the hash "
        "lists before the policy decides.",
    )
    hashlist_quality_floor: int = Field(
        50,
        description="PDQ quality (0-100) below which an image is not matched nor listed from "
        "a file: flat or blank images collide.",
    )
    hashlist_refresh_seconds: float = Field(
        2.0,
        description="How often each process checks the database for list changes (one row "
        "read); a hash added elsewhere matches within this plus one lookup.",
    )
    hashlist_reject_feedback: bool = Field(
        True, description="Add the PDQ hash of every asset a person rejects to list 'rejected'."
    )
    hashlist_rejected_action: str = Field(
        "block", description="What a match on list 'rejected' does: block or review."
    )
    hashlist_approve_feedback: bool = Field(
        True,
        description="Add the PDQ hash of an asset a person approves after an automatic block "
        "to list 'approved', which exempts copies from the overturned category only.",
    )
    hashlist_allow_distance: int = Field(
        10,
        description="Match distance (bits) of list 'approved' and the default of new allow "
        "lists: tighter than PDQ's customary 31, so an exemption is not a way around detection.",
    )
    # --- end hash lists
    worker_poll_seconds: float = Field(
        0.5, description="How long an idle worker waits before looking for jobs again."
    )
    upload_wait_seconds: float = Field(
        30.0, description="How long a synchronous upload waits for its decision before 202."
    )
    idempotency_key_hours: float = Field(
        24.0, description="How long an Idempotency-Key is remembered."
    )
    webhook_secret: str = Field(
        "",
        description="The server secret each key's notification_url signing secret derives "
        "from; empty: generated and stored.",
    )
    webhook_shared_notification_secret: bool = Field(
        False,
        description="Sign notification_url deliveries the old way: with the server secret "
        "itself, shared by every key, and without the URL (v1).",
    )
    webhook_allow_private: bool = Field(
        False, description="Allow webhook targets on private, loopback or link-local addresses."
    )
    webhook_timeout_seconds: float = Field(10.0, description="Timeout of one webhook request.")
    webhook_max_attempts: int = Field(
        8, description="Delivery attempts before a webhook delivery is dead."
    )
    smtp_host: str = Field("", description="SMTP server for alert e-mail; empty disables it.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_username: str = Field("", description="SMTP user; empty sends without logging in.")
    smtp_password: str = Field("", description="SMTP password.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field("vigil@localhost", description="Sender address of alert e-mail.")
    archive_after_days: float = Field(
        30.0,
        description="Originals of decided videos move to the archive area after this many "
        "days; 0 disables archiving.",
    )
    archive_images: bool = Field(
        False, description="Archive the originals of decided images too, not only videos."
    )
    s3_archive_storage_class: str = Field(
        "GLACIER_IR",
        description="S3 storage class of archived objects (GLACIER_IR, STANDARD_IA, ONEZONE_IA, "
        "INTELLIGENT_TIERING or STANDARD); GLACIER and DEEP_ARCHIVE are refused.",
    )
    review_claim_seconds: float = Field(
        600.0, description="How long a reviewer holds a claimed review item before it reopens."
    )
    review_reject_reasons: Annotated[list[str], NoDecode] = Field(
        ["nudity", "sexual content", "violence", "gore", "hate symbol", "drugs", "spam", "other"],
        description="Reasons a reviewer picks from when rejecting, comma-separated.",
    )
    review_double_categories: Annotated[list[str], NoDecode] = Field(
        [],
        description="Top-level categories whose first-pass items need two reviewers who agree "
        "(comma-separated, e.g. Explicit); disagreement goes to a lead.",
    )
    review_session_hours: float = Field(
        12.0, description="How long a review console sign-in lasts."
    )
    review_cookie_secure: bool = Field(
        False, description="Send the console's session cookie over HTTPS only (set behind TLS)."
    )
    review_blur_radius: float = Field(
        0.04, description="Preview blur radius as a fraction of the preview's longest side."
    )
    review_preview_side: int = Field(
        1024, description="Longest side of review previews, in pixels."
    )
    login_attempts_per_ip: int = Field(
        20,
        description="Console sign-in attempts one client address may make per "
        "LOGIN_WINDOW_SECONDS; more are answered 429 with Retry-After.",
    )
    login_window_seconds: float = Field(
        60.0, description="The window LOGIN_ATTEMPTS_PER_IP counts over, in seconds."
    )
    login_lockout_failures: int = Field(
        5,
        description="Failed sign-ins of one username from one client address, within "
        "LOGIN_LOCKOUT_SECONDS, that lock that pair out for LOGIN_LOCKOUT_SECONDS.",
    )
    login_lockout_seconds: float = Field(
        300.0, description="How long a username is locked out for the address that failed."
    )
    login_max_concurrent_hashes: int = Field(
        4,
        description="Sign-ins whose password is hashed (argon2id, 64 MiB each) at the same "
        "time; others wait up to LOGIN_HASH_WAIT_SECONDS, then get 503 SignInBusy.",
    )
    login_hash_wait_seconds: float = Field(
        5.0, description="How long a sign-in waits for a hashing slot."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        [],
        description="Addresses or networks (comma-separated, e.g. 127.0.0.1,10.0.0.0/8) of "
        "reverse proxies whose X-Forwarded-For names the client; empty: the peer address is "
        "the client.",
    )
    key_rotation_overlap_hours: float = Field(
        24.0,
        ge=0,
        description="How long a rotated key's old secret keeps working beside the new one, in "
        "hours; 0 ends it at once.",
    )
    moderation_none_any_uploader: bool = Field(
        False,
        description="Let every uploader key upload with moderation=none, as before issue 16; "
        "false: only keys with the skip-moderation grant (and admin keys) may.",
    )
    rekognition_s3_inputs: Annotated[list[str], NoDecode] = Field(
        [],
        description="Buckets and prefixes (comma-separated bucket or bucket/prefix) a "
        "Rekognition request's S3Object may name; empty: S3 input is off; * allows any "
        "bucket. vigil's own blob bucket and prefix are always refused.",
    )

    ingest_policy: str = Field(
        "", description="Policy `vigil ingest sqs` moderates with; empty means DEFAULT_POLICY."
    )
    ingest_quarantine_bucket: str = Field(
        "",
        description="Bucket `vigil ingest sqs` moves rejected objects to; empty: the object's "
        "own bucket.",
    )
    ingest_quarantine_prefix: str = Field(
        "quarantine/",
        description="Key prefix of moved rejected objects; with INGEST_QUARANTINE_BUCKET also "
        "empty, rejected objects stay where they are (tagged only).",
    )
    ingest_max_receives: int = Field(
        5, description="Receives of an SQS message that fails before it is dead-lettered."
    )
    ingest_visibility_timeout_seconds: int = Field(
        300, description="How long a received SQS message stays hidden from other consumers."
    )
    ingest_wait_seconds: int = Field(
        20, description="SQS long-polling wait of `vigil ingest sqs` (0-20 seconds)."
    )

    @field_validator(
        "detectors",
        "review_reject_reasons",
        "review_double_categories",
        "trusted_proxies",
        "rekognition_s3_inputs",
        "execution_providers",
        mode="before",
    )
    @classmethod
    def _split_detectors(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'vigil.db'}"

    @property
    def resolved_adapter_dir(self) -> Path:
        return self.adapter_dir if self.adapter_dir is not None else self.data_dir / "adapters"

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir if self.blob_dir is not None else self.data_dir / "blobs"

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"


def settings_file() -> Path | None:
    """The settings file in force, if any."""
    named = os.environ.get(f"{ENV_PREFIX}SETTINGS_FILE")
    if named:
        return Path(named)
    default = Path(DEFAULT_SETTINGS_FILE)
    return default if default.exists() else None


def _file_values(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise InvalidParameter(f"settings file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameter(f"settings file {path} is not valid TOML: {exc}") from exc


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, the settings file and ``overrides`` (highest)."""
    values = _file_values(settings_file())
    for name in list(values):
        if f"{ENV_PREFIX}{name.upper()}" in os.environ:
            del values[name]  # environment beats the file
    values.update(overrides)
    return Settings(**values)


# Words that make a setting a secret (by its name's parts, so idempotency_key_hours, a number,
# is matched but left alone: only text values are hidden).
SECRET_WORDS = frozenset({"secret", "password", "key", "token", "credentials"})
HIDDEN = "<hidden: --show-secrets shows it>"


def shown(name: str, value: Any) -> Any:
    """``value`` as `vigil settings` prints it without --show-secrets: secrets hidden, and the
    password of a URL (a PostgreSQL DATABASE_URL) replaced."""
    if not isinstance(value, str) or not value:
        return value
    if SECRET_WORDS & set(name.split("_")):
        return HIDDEN
    parts = urlsplit(value)
    if "://" in value and parts.password:
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    return value


def describe(settings: Settings, show_secrets: bool = False) -> list[tuple[str, Any, str, str]]:
    """(name, effective value, source, help) for every setting, for `vigil settings`; secrets
    hidden unless ``show_secrets``."""
    from_file = _file_values(settings_file())
    rows = []
    for name, field in Settings.model_fields.items():
        if f"{ENV_PREFIX}{name.upper()}" in os.environ:
            source = f"env {ENV_PREFIX}{name.upper()}"
        elif name in from_file:
            source = f"file {settings_file()}"
        elif name in settings.model_fields_set:
            source = "override"
        else:
            source = "default"
        value = getattr(settings, name)
        rows.append(
            (name, value if show_secrets else shown(name, value), source, field.description or "")
        )
    return rows
