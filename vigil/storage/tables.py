"""Database tables (SQLAlchemy 2 declarative). Changes here need an Alembic migration."""

# No `from __future__ import annotations` here: with it SQLAlchemy evaluates each of the
# ~240 `Mapped[...]` annotations from its string, a fifth of this module's import time, which
# every `vigil` command that opens the database pays (docs/speed.md, "CLI start-up").

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy import text as sql_text  # AssetRow has a column named text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from vigil.storage.utc_datetime import UTCDateTime


class Base(DeclarativeBase):
    pass


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # --- keys (0017, docs/keys.md): expiry, last use (to the minute), grants, and the secret
    # a rotation replaced, which keeps working until previous_expires_at.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    grants: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    previous_key_hash: Mapped[str | None] = mapped_column(
        String(64), nullable=True, unique=True, index=True
    )
    previous_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # --- end keys


class AssetRow(Base):
    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    filename: Mapped[str] = mapped_column(String(500), default="")
    format: Mapped[str] = mapped_column(String(16))
    mime: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    # The moderation field as given: a Cloudinary string can be long (0004 widened it).
    moderation_mode: Mapped[str] = mapped_column(String(500))
    storage_area: Mapped[str] = mapped_column(String(16))
    labels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What each detector said before merging: policies can be replayed on it without
    # re-running inference (labels alone lose which scores were direct).
    detections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    content_types: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Every line of text OCR read, one per line (0014): what `GET /v1/assets?text=` searches.
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    model_version: Mapped[str] = mapped_column(Text, default="")
    # --- hash lists (0016, docs/hashlists.md): the image's PDQ hash (hex) and its quality.
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pdq_quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The PDQ hash of the image without its flat margins, when it has any (hashlists/margins).
    pdq_content: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # --- end hash lists
    decision: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    shadow_decision: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    upload_preset: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    notification_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    # Each moderation step's outcome in order ({"kind", "status", "updated_at", ...}).
    moderation_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Why processing failed ({"code", "message"}) for an asset whose status is "failed".
    error: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    media_type: Mapped[str] = mapped_column(String(16), default="image", server_default="image")
    # Originals of decided assets move to the archive area after an age; ``archived_from``
    # is the area a restore puts them back in.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    archived_from: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # --- review at scale (0018, docs/review.md): copies of ``decision``'s QA flag and action,
    # so the queues and the dashboard read columns, not JSON, and an index serves them.
    qa_sample: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    machine_action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Raised by whoever changes the status or decision, lowered once the review items follow
    # (``review.items.sync``): queue reads visit only these assets, never all of them.
    review_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # --- end review at scale

    __table_args__ = (
        Index("ix_assets_status_created", "status", "created_at"),
        Index("ix_assets_owner_created", "owner_key_id", "created_at"),
        # The duplicate cache looks up an earlier upload of the same bytes (0013).
        Index("ix_assets_sha256", "sha256"),
        # The dashboard counts a window's machine decisions from this index alone (0018).
        Index("ix_assets_created_action", "created_at", "machine_action"),
        # Partial: only the few flagged assets are in it. The predicates are spelled as the
        # queues' sync query compiles on each database, so both planners match them.
        Index(
            "ix_assets_review_due",
            "id",
            sqlite_where=sql_text("review_due = 1"),
            postgresql_where=sql_text("review_due = true"),
        ),
    )


class AuditEventRow(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyRow(Base):
    """One policy name and which of its versions is in force."""

    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    active_version: Mapped[int] = mapped_column(Integer)
    activated_by: Mapped[str] = mapped_column(String(64))
    # A candidate evaluated beside the active version on live traffic, never acted on.
    shadow_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyVersionRow(Base):
    """An immutable version of a policy: its source text as submitted."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ux_policy_versions_name_version", "name", "version", unique=True),)


class UploadPresetRow(Base):
    """A named, stored set of upload options (moderation, policy, context, tags, ...)."""

    __tablename__ = "upload_presets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class JobRow(Base):
    """One unit of background work. Times are epoch seconds (floats), which compare the same
    way on SQLite and PostgreSQL."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    available_at: Mapped[float] = mapped_column(Float)
    leased_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_jobs_state_available", "state", "available_at"),)


class IdempotencyKeyRow(Base):
    """An upload's Idempotency-Key, per uploader: a retry returns the first upload's asset."""

    __tablename__ = "idempotency_keys"

    owner_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookSubscriptionRow(Base):
    """A registered webhook: a URL and the event types it wants. Removing one only marks it
    inactive, so the delivery log keeps pointing at it."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDeliveryRow(Base):
    """One event for one target (a subscription, or an asset's notification_url when
    ``subscription_id`` is empty), with its outcome so far."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id"), nullable=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_webhook_deliveries_status_created", "status", "created_at"),)


class WebhookAttemptRow(Base):
    """One HTTP attempt of a delivery: the status code, or why no answer came."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(Integer)


class InstanceValueRow(Base):
    """Values this instance generated once and must keep (the webhook signing secret)."""

    __tablename__ = "instance_values"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertRuleRow(Base):
    """Who gets e-mail when a moderation event matches a label threshold (docs/alerts.md).
    Rules are not edited in place: a change is a delete and a new rule."""

    __tablename__ = "alert_rules"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(100))
    min_confidence: Mapped[float] = mapped_column(Float)
    min_labels: Mapped[int] = mapped_column(Integer)
    min_segments: Mapped[int | None] = mapped_column(Integer, nullable=True)
    events: Mapped[list[str]] = mapped_column(JSON)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VideoRow(Base):
    """The moderation of one video asset, in the shape of Rekognition's GetContentModeration:
    labels per sampled frame with their timestamps, and the segments they merge into."""

    __tablename__ = "videos"

    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64), unique=True)
    job_status: Mapped[str] = mapped_column(String(16))  # IN_PROGRESS, SUCCEEDED, FAILED
    status_message: Mapped[str] = mapped_column(Text, default="")
    video_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    frame_labels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    frames_decoded: Mapped[int] = mapped_column(Integer, default=0)
    frames_analyzed: Mapped[int] = mapped_column(Integer, default=0)
    # Where decoding stopped, for a video that decoded only partly.
    decoded_until_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumbnails: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UserRow(Base):
    """A person who signs in to the review console (docs/review.md). API keys are for
    programs; people have a username, a password (argon2 hash) and a role."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # reviewer, lead, admin
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSessionRow(Base):
    """A signed-in browser. Only the cookie's SHA-256 is stored; times are epoch seconds."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class SignInEventRow(Base):
    """One console sign-in attempt's outcome, or an admin lifting a lockout (0019): the audit
    of sign-ins, and what every process counts lockouts from (service.review.sign_in_guard).
    ``address`` is null only for an unlock that covers every address."""

    __tablename__ = "sign_in_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    username: Mapped[str] = mapped_column(String(100))  # as typed: unknown names too
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # success, failure, locked, ...
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)  # who unlocked

    __table_args__ = (
        Index("ix_sign_in_events_user_address_at", "username", "address", "at"),
        Index("ix_sign_in_events_address_at", "address", "at"),
        Index("ix_sign_in_events_at", "at"),  # the listing and the retention sweep
    )


class ReviewItemRow(Base):
    """One asset waiting in (or done with) one review queue. First-pass and QA items are
    derived from assets; appeal and escalation items are opened by people. ``round`` numbers
    an asset's items per queue, so concurrent derivations cannot open the same one twice."""

    __tablename__ = "review_items"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # ux_review_items_asset_queue_round leads with asset_id: it serves lookups by asset.
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"))
    queue: Mapped[str] = mapped_column(String(16))  # first_pass, appeal, qa, escalation
    round: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16))  # open, claimed, done
    # How many people must agree (2 for categories in REVIEW_DOUBLE_CATEGORIES).
    reviews_needed: Mapped[int] = mapped_column(Integer, default=1)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claim_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    opened_by: Mapped[str] = mapped_column(String(64), default="system")
    message: Mapped[str] = mapped_column(Text, default="")  # the appeal or escalation note
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ux_review_items_asset_queue_round", "asset_id", "queue", "round", unique=True),
        Index("ix_review_items_queue_state", "queue", "state", "created_at"),
        # Items not done, oldest first per queue: reads and claims skip the done ones (0018).
        Index(
            "ix_review_items_waiting",
            "queue",
            "created_at",
            "id",
            sqlite_where=sql_text("state != 'done'"),
            postgresql_where=sql_text("state != 'done'"),
        ),
        Index("ix_review_items_decided_at", "decided_at"),  # the dashboard's window (0018)
    )


class ReviewDecisionRow(Base):
    """One person's decision on one review item, with the machine's action beside it, so
    disagreement and false-positive/negative rates can be measured later."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("review_items.id"), index=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"), index=True)
    queue: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))  # approve, reject, escalate
    reason: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    machine_action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    category: Mapped[str] = mapped_column(String(100), default="none")
    # True on the second review of a double-reviewed item when it differs from the first.
    disagreed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # The dashboard's window (0018).
    __table_args__ = (Index("ix_review_decisions_created_at", "created_at"),)


class MachineDayRow(Base):
    """The machine's decisions on one settled day's uploads, counted per action (0018): the
    dashboard counts a day once, not on every view. Kept only for days before yesterday;
    a late decision on such a day deletes its row (``service.core.machine_days``)."""

    __tablename__ = "machine_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)  # {"allow": n, "block": n, ...}


class AwsAccessKeyRow(Base):
    """An AWS-style access key pair for the Rekognition-compatible endpoint (docs/rekognition.md).
    SigV4 needs the secret itself to recompute signatures, so it is kept in plain text, like
    webhook secrets; the role is that of the linked API key, whose revocation ends it too."""

    __tablename__ = "aws_access_keys"

    access_key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the key is rotated (0017): the old pair works until then, beside the new one.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SnsTopicRow(Base):
    """Where completion notifications for an SNS topic ARN are delivered (an HTTP URL)."""

    __tablename__ = "sns_topics"

    arn: Mapped[str] = mapped_column(String(300), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RekognitionJobRow(Base):
    """A StartContentModeration call: its video asset, its idempotency token and fingerprint,
    and what GetContentModeration and the completion notification echo back."""

    __tablename__ = "rekognition_jobs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    asset_id: Mapped[str] = mapped_column(ForeignKey("assets.id"), index=True)
    owner_key_id: Mapped[str] = mapped_column(String(32))
    client_request_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    job_tag: Mapped[str | None] = mapped_column(String(256), nullable=True)
    min_confidence: Mapped[float] = mapped_column(Float)
    video: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"S3Object": {...}}
    sns_topic_arn: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # Set once by whichever of the job's completion or this row's insert comes last, so the
    # notification is sent exactly once (see vigil/service/notices/sns.py).
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(
            "ux_rekognition_jobs_owner_token", "owner_key_id", "client_request_token", unique=True
        ),
    )


class IngestDeadLetterRow(Base):
    """An SQS message `vigil ingest sqs` gave up on after its last allowed receive."""

    __tablename__ = "ingest_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue_url: Mapped[str] = mapped_column(String(2000))
    message_id: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    receive_count: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- hash lists (0016, docs/hashlists.md) --------------------------------------------------


class HashListRow(Base):
    """A named list of PDQ hashes and what a match does: block, review or allow."""

    __tablename__ = "hash_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    action: Mapped[str] = mapped_column(String(16))  # block, review, allow
    label: Mapped[str] = mapped_column(String(100))  # the taxonomy label a match reports
    distance: Mapped[int] = mapped_column(Integer)  # the largest Hamming distance that matches
    description: Mapped[str] = mapped_column(Text, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)  # rejected, approved
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class HashListItemRow(Base):
    """One hash in one list, with who added it, when, and from which asset (if any)."""

    __tablename__ = "hash_list_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id"))
    pdq: Mapped[str] = mapped_column(String(64))  # 64 hex characters
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # Top-level categories an allow item exempts (the ones a person overturned); [] = all.
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_asset_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    added_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ux_hash_list_items_list_pdq", "list_id", "pdq", unique=True),
        Index("ix_hash_list_items_pdq", "pdq"),
    )


class HashListStateRow(Base):
    """One row that every change to any list bumps, so each process notices a change with one
    cheap read: ``version`` on any change, ``removals`` when hashes left (a full reload)."""

    __tablename__ = "hash_list_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    removals: Mapped[int] = mapped_column(Integer, default=0)


# --- end hash lists -------------------------------------------------------------------------


class ApiKeyEventRow(Base):
    """Audit of key management (0017): create, revoke, rotate, grant, revoke-grant. Kept apart
    from audit_events, whose rows must name an asset."""

    __tablename__ = "api_key_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
