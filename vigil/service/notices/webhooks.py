"""Webhooks: subscriptions per event type, deliveries of events to them and to an asset's
``notification_url``, the delivery log, and redelivery.

A subscription's deliveries are signed with its own secret; a notification_url's with the
uploading key's secret, over the URL too (``v2``, see ``vigil.notify.signing``), so a receiver
can tell whose upload a delivery is for and that it was meant for its URL.

An event becomes one delivery row per target, written in the transaction that changed the
asset, and one ``webhook`` job per delivery; the job queue retries failed attempts with
backoff, and every attempt is logged with its status code or error.
"""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vigil import __version__
from vigil.errors import (
    DeliveryNotFound,
    InvalidParameter,
    InvalidTransition,
    UnsafeWebhookTarget,
    WebhookNotFound,
)
from vigil.metrics import WEBHOOK_FAILURES
from vigil.notify.sender import post
from vigil.notify.signing import SIGNATURE_HEADER, new_secret, sign
from vigil.notify.targets import check_target, resolve_target
from vigil.queue.jobs import Job, JobQueue
from vigil.service.access.principal import Principal, Role, require_role
from vigil.service.core.enums import parse_enum
from vigil.service.core.events import EVENT_TYPES
from vigil.service.core.times import iso
from vigil.service.notices.signing_secrets import ServerSecret
from vigil.settings import Settings
from vigil.storage.db import Database
from vigil.storage.tables import (
    AssetRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)

log = logging.getLogger(__name__)

JOB_KIND = "webhook"
MAX_PAGE = 200
MAX_DESCRIPTION = 500
UNSAFE_TARGET = "unsafe_target"  # the failure reason of a target the SSRF check refused
USER_AGENT = f"vigil-webhooks/{__version__}"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every attempt failed, or the subscription was removed


class DeliveryFailed(Exception):
    """One attempt failed; raised so the job queue retries the delivery after a backoff."""


@dataclass(frozen=True)
class _Request:
    delivery_id: str
    url: str
    event_type: str
    body: bytes
    secret: str
    signed_url: str | None  # under the signature (v2): notification_url deliveries


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error: str
    reason: str | None  # None on success, else the WEBHOOK_FAILURES reason
    duration_ms: int


class WebhookService:
    def __init__(self, db: Database, queue: JobQueue, settings: Settings) -> None:
        self.db = db
        self.queue = queue
        self.settings = settings
        self.server_secret = ServerSecret(db, settings)

    # -- subscriptions -----------------------------------------------------------------------

    def create(
        self, who: Principal, url: str, events: list[str], description: str = ""
    ) -> dict[str, Any]:
        """Register a subscription. The answer carries its signing secret, shown only here."""
        require_role(who, Role.ADMIN)
        chosen = _check_events(events)
        if len(description) > MAX_DESCRIPTION:
            raise InvalidParameter(f"a description is at most {MAX_DESCRIPTION} characters")
        url = url.strip()
        check_target(url, self.settings.webhook_allow_private)
        row = WebhookSubscriptionRow(
            id=_new_id("wh"),
            url=url,
            events=chosen,
            secret=new_secret(),
            description=description,
            active=True,
            created_by=who.key_id,
            created_at=datetime.now(UTC),
        )
        with self.db.session() as session:
            session.add(row)
        return {**_subscription_view(row), "secret": row.secret}

    def subscriptions(self, who: Principal) -> list[dict[str, Any]]:
        """Active subscriptions, oldest first, without their secrets."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            rows = session.scalars(_active_subscriptions())
            return [_subscription_view(row) for row in rows]

    def remove(self, who: Principal, webhook_id: str) -> dict[str, str]:
        """Stop sending to a subscription. Its deliveries stay in the log."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = session.get(WebhookSubscriptionRow, webhook_id)
            if row is None or not row.active:
                raise WebhookNotFound(f"no webhook subscription with id {webhook_id}")
            row.active = False
        return {"deleted": webhook_id}

    def secret(self, who: Principal) -> dict[str, str]:
        """The server secret each key's notification_url signing secret derives from (and,
        under VIGIL_WEBHOOK_SHARED_NOTIFICATION_SECRET, the one that signs them all)."""
        require_role(who, Role.ADMIN)
        return {"secret": self.instance_secret(), "source": self.server_secret.source}

    def instance_secret(self) -> str:
        """VIGIL_WEBHOOK_SECRET, or the one generated on first use and kept in the database,
        so every process of this instance signs with the same secret."""
        return self.server_secret.value()

    # -- events ------------------------------------------------------------------------------

    def enqueue_deliveries(self, session: Session, event: dict[str, Any]) -> int:
        """One delivery and one job per active subscription to the event's type, and one for
        the asset's notification_url (which gets every event of its asset). Call inside the
        transaction that changed the asset, so the deliveries exist exactly when it commits.
        Returns how many deliveries were created."""
        event_type = str(event["type"])
        targets: list[tuple[str | None, str]] = [
            (row.id, row.url)
            for row in session.scalars(_active_subscriptions())
            if event_type in row.events
        ]
        notification_url = event.get("data", {}).get("asset", {}).get("notification_url")
        if notification_url:
            targets.append((None, str(notification_url)))
        now = datetime.now(UTC)
        for subscription_id, url in targets:
            row = delivery_row(
                subscription_id, url, str(event["id"]), str(event["type"]), event, now
            )
            session.add(row)
            self._enqueue(session, row.id)
        return len(targets)

    def _enqueue(self, session: Session, delivery_id: str) -> int:
        return enqueue_delivery(session, self.queue, self.settings, delivery_id)

    # -- the delivery log --------------------------------------------------------------------

    def deliveries(
        self, who: Principal, *, status: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Deliveries newest first, optionally only those with ``status``."""
        require_role(who, Role.ADMIN)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidParameter(f"limit must be between 1 and {MAX_PAGE}")
        query = select(WebhookDeliveryRow)
        if status is not None:
            chosen = parse_enum(DeliveryStatus, status, "delivery status")
            query = query.where(WebhookDeliveryRow.status == chosen.value)
        query = query.order_by(
            WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id.desc()
        ).limit(limit)
        with self.db.session() as session:
            return [_delivery_view(row) for row in session.scalars(query)]

    def delivery(self, who: Principal, delivery_id: str) -> dict[str, Any]:
        """One delivery with its payload and every attempt, oldest first."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = _delivery(session, delivery_id)
            attempts = session.scalars(
                select(WebhookAttemptRow)
                .where(WebhookAttemptRow.delivery_id == delivery_id)
                .order_by(WebhookAttemptRow.id)
            )
            return {
                **_delivery_view(row),
                "payload": row.payload,
                "attempts": [_attempt_view(attempt) for attempt in attempts],
            }

    def redeliver(self, who: Principal, delivery_id: str) -> dict[str, Any]:
        """Send a delivery again: the same payload under a fresh signature timestamp, with a
        fresh set of attempts."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = _delivery(session, delivery_id)
            if row.subscription_id is not None:
                subscription = session.get(WebhookSubscriptionRow, row.subscription_id)
                if subscription is None or not subscription.active:
                    raise InvalidTransition(
                        f"delivery {delivery_id} belongs to a removed subscription"
                    )
            row.status = DeliveryStatus.PENDING.value
            row.updated_at = datetime.now(UTC)
            job_id = self._enqueue(session, row.id)
            return {"delivery": _delivery_view(row), "job_id": job_id}

    # -- the job -----------------------------------------------------------------------------

    def deliver(self, job: Job) -> None:
        """One attempt of the delivery ``job.payload["delivery_id"]``, logged. Raises
        DeliveryFailed when it failed, so the queue retries it; after the job's last attempt
        the delivery is marked failed."""
        delivery_id = str(job.payload["delivery_id"])
        request = self._request(delivery_id)
        if request is None:
            return
        outcome = self._attempt(request)
        # A refused target is refused on every attempt: the delivery fails now, not after
        # the whole retry budget.
        refused = outcome.reason == UNSAFE_TARGET
        self._record(delivery_id, outcome, last=refused or job.attempts >= job.max_attempts)
        if refused:
            WEBHOOK_FAILURES.labels(reason=UNSAFE_TARGET).inc()
            return
        if outcome.reason is not None:
            WEBHOOK_FAILURES.labels(reason=outcome.reason).inc()
            raise DeliveryFailed(f"delivery {delivery_id} to {request.url}: {outcome.error}")

    def _request(self, delivery_id: str) -> _Request | None:
        """What to send, or None when there is nothing to send any more."""
        with self.db.session() as session:
            row = session.get(WebhookDeliveryRow, delivery_id)
            if row is None:
                log.warning("webhook delivery %s no longer exists; nothing sent", delivery_id)
                return None
            if row.subscription_id is not None:
                subscription = session.get(WebhookSubscriptionRow, row.subscription_id)
                if subscription is None or not subscription.active:
                    _settle(row, DeliveryStatus.FAILED, "the subscription was removed; not sent")
                    return None
                return _Request(
                    delivery_id,
                    row.url,
                    row.event_type,
                    _body(row.payload),
                    subscription.secret,
                    None,
                )
            asset_id = _asset_id(row)
            owner = _owner_key(session, asset_id)
            # An asset's notification without its asset has no key to sign for; a delivery of
            # no asset (an SNS topic's, registered by an admin) is signed with the server's.
            gone = asset_id is not None and owner is None
            if gone and not self.settings.webhook_shared_notification_secret:
                _settle(row, DeliveryStatus.FAILED, "the asset no longer exists; not sent")
                return None
            url, event_type, body = row.url, row.event_type, _body(row.payload)
        # Derived after the session ends: generating the server secret on first use writes
        # to the database.
        return self._notification_request(delivery_id, url, event_type, body, owner)

    def _notification_request(
        self, delivery_id: str, url: str, event_type: str, body: bytes, owner: str | None
    ) -> _Request:
        """A notification_url delivery: signed with the uploading key's secret over the URL,
        or, under the old shared-secret setting, with the server secret alone (v1)."""
        if self.settings.webhook_shared_notification_secret or owner is None:
            return _Request(delivery_id, url, event_type, body, self.instance_secret(), None)
        secret = self.server_secret.for_key(owner)
        return _Request(delivery_id, url, event_type, body, secret, url)

    def _attempt(self, request: _Request) -> _Outcome:
        """One POST; the network is used outside any database transaction."""
        started = time.monotonic()
        try:
            # Checked again now: the host may resolve elsewhere than when it was registered.
            target = resolve_target(request.url, self.settings.webhook_allow_private)
            code = post(
                target, request.body, _headers(request), self.settings.webhook_timeout_seconds
            )
        except UnsafeWebhookTarget as exc:
            return _Outcome(None, f"not sent: {exc.message}", UNSAFE_TARGET, 0)
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            return _Outcome(None, error, "network", _elapsed_ms(started))
        if 200 <= code < 300:
            return _Outcome(code, "", None, _elapsed_ms(started))
        # A redirect is a failure too: following it could lead to an internal address.
        return _Outcome(code, f"HTTP {code}", "status", _elapsed_ms(started))

    def _record(self, delivery_id: str, outcome: _Outcome, *, last: bool) -> None:
        now = datetime.now(UTC)
        with self.db.session() as session:
            session.add(
                WebhookAttemptRow(
                    delivery_id=delivery_id,
                    at=now,
                    status_code=outcome.status_code,
                    error=outcome.error[:4000],
                    duration_ms=outcome.duration_ms,
                )
            )
            row = session.get(WebhookDeliveryRow, delivery_id, with_for_update=True)
            if row is None:
                return
            row.attempts += 1
            row.last_status_code = outcome.status_code
            if outcome.reason is None:
                status = DeliveryStatus.SUCCEEDED
            else:
                status = DeliveryStatus.FAILED if last else DeliveryStatus.PENDING
            _settle(row, status, outcome.error[:4000], now)


def _check_events(events: list[str]) -> list[str]:
    chosen = list(dict.fromkeys(event.strip() for event in events))
    known = ", ".join(EVENT_TYPES)
    unknown = [event for event in chosen if event not in EVENT_TYPES]
    if unknown:
        raise InvalidParameter(f"unknown event types {unknown} (known: {known})")
    if not chosen:
        raise InvalidParameter(f"name at least one event type (known: {known})")
    return chosen


def _active_subscriptions() -> Select[WebhookSubscriptionRow]:
    return (
        select(WebhookSubscriptionRow)
        .where(WebhookSubscriptionRow.active.is_(True))
        .order_by(WebhookSubscriptionRow.created_at, WebhookSubscriptionRow.id)
    )


def _asset_id(row: WebhookDeliveryRow) -> str | None:
    """The asset a delivery's event is about, if any."""
    asset_id = row.payload.get("data", {}).get("asset", {}).get("id")
    return str(asset_id) if asset_id else None


def _owner_key(session: Session, asset_id: str | None) -> str | None:
    """The key that uploaded the asset: the delivery stores only the event, whose asset names
    no owner (the event body is the asset as its uploader sees it)."""
    asset = session.get(AssetRow, asset_id) if asset_id else None
    return asset.owner_key_id if asset is not None else None


def _delivery(session: Session, delivery_id: str) -> WebhookDeliveryRow:
    row = session.get(WebhookDeliveryRow, delivery_id)
    if row is None:
        raise DeliveryNotFound(f"no webhook delivery with id {delivery_id}")
    return row


def delivery_row(
    subscription_id: str | None,
    url: str,
    event_id: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
) -> WebhookDeliveryRow:
    """A new pending delivery of ``payload`` to ``url``."""
    return WebhookDeliveryRow(
        id=_new_id("dlv"),
        subscription_id=subscription_id,
        url=url,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        last_status_code=None,
        last_error="",
        created_at=now,
        updated_at=now,
    )


def _settle(
    row: WebhookDeliveryRow, status: DeliveryStatus, error: str, now: datetime | None = None
) -> None:
    row.status = status.value
    row.last_error = error
    row.updated_at = now or datetime.now(UTC)


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _headers(request: _Request) -> dict[str, str]:
    # Signed just before sending, so the timestamp is the time of this attempt.
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Vigil-Event": request.event_type,
        "Vigil-Delivery": request.delivery_id,
        SIGNATURE_HEADER: sign(request.secret, int(time.time()), request.body, request.signed_url),
    }


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def enqueue_delivery(
    session: Session, queue: JobQueue, settings: Settings, delivery_id: str
) -> int:
    """The job that sends a delivery, with the webhook retry budget."""
    payload = {"delivery_id": delivery_id}
    return queue.enqueue(session, JOB_KIND, payload, max_attempts=settings.webhook_max_attempts)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _subscription_view(row: WebhookSubscriptionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": list(row.events),
        "description": row.description,
        "active": row.active,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
    }


def _delivery_view(row: WebhookDeliveryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "subscription_id": row.subscription_id,
        "url": row.url,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempt_count": row.attempts,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def _attempt_view(row: WebhookAttemptRow) -> dict[str, Any]:
    return {
        "at": iso(row.at),
        "status_code": row.status_code,
        "error": row.error,
        "duration_ms": row.duration_ms,
    }
