"""Scanning objects: each batch read, moderated by the upload path's engine, reported."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from vigil.errors import VigilError
from vigil.service.backfill.sources import ScanSource, SourceSpec

if TYPE_CHECKING:
    from vigil.app import Vigil
    from vigil.policy.model import Policy
    from vigil.service.access.principal import Principal
    from vigil.settings import Settings

BACKFILL_KEY_ID = "backfill"  # the API key row that recorded assets belong to
BACKFILL_TAG = "backfill"


@dataclass(frozen=True)
class ScanPlan:
    """Everything a worker process needs to scan, picklable for Ray: the driver's settings
    and the policy version it resolved, so every worker decides alike."""

    settings: Settings
    source: SourceSpec
    policy: Policy
    context: dict[str, str] = field(default_factory=dict)
    floor: float = 0.0
    record: bool = False  # create an asset per object through the upload service

    def start(self) -> ScanWorker:
        return ScanWorker(self)


class ScanWorker:
    """One process's loaded detectors (once) and its own client for the source."""

    def __init__(self, plan: ScanPlan) -> None:
        from vigil.app import build

        self.plan = plan
        self.vigil: Vigil = build(plan.settings)
        self.vigil.engine.load([plan.policy])
        self.source: ScanSource = plan.source.open()
        self.owner = ensure_backfill_owner(self.vigil) if plan.record else None

    def run(self, keys: list[str]) -> list[dict[str, Any]]:
        """One report line per key, in order; an unreadable or refused object is a line with
        its error, never an exception."""
        read = [self._read(key) for key in keys]
        if self.plan.record:
            return [self._recorded(key, data) for key, data in zip(keys, read, strict=True)]
        return self._moderated(keys, read)

    def close(self) -> None:
        self.vigil.close()

    def _read(self, key: str) -> bytes | VigilError:
        try:
            return self.source.read(key)
        except VigilError as refusal:
            return refusal

    def _moderated(self, keys: list[str], read: list[bytes | VigilError]) -> list[dict[str, Any]]:
        """The batch's readable objects share detector runs (``moderate_batch``)."""
        plan, engine = self.plan, self.vigil.engine
        data = [item for item in read if isinstance(item, bytes)]
        outcomes = iter(engine.moderate_batch(data, plan.policy, plan.context) if data else [])
        lines: list[dict[str, Any]] = []
        for key, item in zip(keys, read, strict=True):
            outcome = item if isinstance(item, VigilError) else next(outcomes)
            shown = (
                outcome.to_dict()
                if isinstance(outcome, VigilError)
                else outcome.to_dict(plan.floor)
            )
            lines.append({"file": self.source.name(key), **shown})
        return lines

    def _recorded(self, key: str, item: bytes | VigilError) -> dict[str, Any]:
        """An asset decided by the upload path (its own detector run, cache and policy); a
        rerun replays the first asset through the upload's idempotency key."""
        from vigil.service.assets.uploads import UNTIL_DECIDED, UploadRequest
        from vigil.service.policies.presets import UploadOptions

        name = self.source.name(key)
        if isinstance(item, VigilError):
            return {"file": name, **item.to_dict()}
        assert self.owner is not None
        options = UploadOptions(
            policy=self.plan.policy.name, context=self.plan.context, tags=(BACKFILL_TAG,)
        )
        digest = hashlib.sha256(f"{name}\0{hashlib.sha256(item).hexdigest()}".encode())
        try:
            outcome = self.vigil.uploads.submit(
                io.BytesIO(item),
                UploadRequest(filename=name[-500:], options=options),
                self.owner,
                wait=UNTIL_DECIDED,
                idempotency_key=f"backfill:{digest.hexdigest()}",
            )
        except VigilError as refusal:
            return {"file": name, **refusal.to_dict()}
        asset = outcome.asset
        return {
            "file": name,
            "asset_id": asset["id"],
            "status": asset["status"],
            "decision": asset.get("decision"),
        }


def ensure_backfill_owner(vigil: Vigil) -> Principal:
    """The uploader recorded assets belong to: an API key row nobody can sign in with (its
    hash is of a secret that was never kept), as for `vigil ingest sqs`."""
    import secrets

    from vigil.service.access.principal import Principal, Role
    from vigil.storage.tables import ApiKeyRow

    with vigil.db.session() as session:
        exists = session.get(ApiKeyRow, BACKFILL_KEY_ID) is not None
    if not exists:
        unusable = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
        row = ApiKeyRow(
            id=BACKFILL_KEY_ID,
            key_hash=unusable,
            role=Role.UPLOADER.value,
            name="vigil scan --record",
            created_at=datetime.now(UTC),
        )
        try:
            with vigil.db.session() as session:
                session.add(row)
        except IntegrityError:
            pass  # another worker process made it first
    return Principal(key_id=BACKFILL_KEY_ID, role=Role.UPLOADER)
