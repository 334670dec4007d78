"""Upload presets: named, stored sets of upload options chosen with ``upload_preset=NAME``.
Options given with the upload itself win over the preset's."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from vigil.errors import InvalidParameter, InvalidPreset, PresetNotFound
from vigil.policy.cloudinary import parse_moderation
from vigil.policy.context import CONTEXT_KEYS, check_context_sizes, resolve_context
from vigil.service.access.principal import Principal
from vigil.service.policies.repository import PolicyRepository
from vigil.storage.db import Database
from vigil.storage.tables import UploadPresetRow

# What an uploader sees in place of a preset's notification_url.
REDACTED = "[redacted]"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_TAGS = 20
MAX_TAG_LENGTH = 64


@dataclass(frozen=True)
class UploadOptions:
    """What an upload may set; ``None`` / empty means "not set here"."""

    moderation: str | None = None
    policy: str | None = None
    context: dict[str, str] = field(default_factory=dict)
    notification_url: str | None = None
    tags: tuple[str, ...] = ()

    def over(self, base: UploadOptions) -> UploadOptions:
        """These options, with anything unset taken from ``base``; context keys merge."""
        return UploadOptions(
            moderation=self.moderation or base.moderation,
            policy=self.policy or base.policy,
            context={**base.context, **self.context},
            notification_url=self.notification_url or base.notification_url,
            tags=self.tags or base.tags,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UploadOptions:
        unknown = set(data) - {"moderation", "policy", "context", "notification_url", "tags"}
        if unknown:
            raise InvalidParameter(f"unknown preset options {sorted(unknown)}")
        context = data.get("context") or {}
        tags = data.get("tags") or []
        if not isinstance(context, dict) or not isinstance(tags, list):
            raise InvalidParameter("a preset's context is an object and its tags a list")
        return cls(
            moderation=data.get("moderation"),
            policy=data.get("policy"),
            context={str(key): str(value) for key, value in context.items()},
            notification_url=data.get("notification_url"),
            tags=tuple(str(tag) for tag in tags),
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tags": list(self.tags)}


def check_options(options: UploadOptions) -> UploadOptions:
    """The options with tags cleaned; InvalidParameter says what is wrong."""
    if options.moderation is not None:
        parse_moderation(options.moderation)
    unknown = set(options.context) - set(CONTEXT_KEYS)
    if unknown:
        raise InvalidParameter(
            f"unknown context keys {sorted(unknown)} (known: {', '.join(CONTEXT_KEYS)})"
        )
    check_context_sizes(options.context)
    if options.notification_url is not None:
        _check_url(options.notification_url)
    tags = tuple(dict.fromkeys(tag.strip() for tag in options.tags if tag.strip()))
    if len(tags) > MAX_TAGS or any(len(tag) > MAX_TAG_LENGTH for tag in tags):
        raise InvalidParameter(f"at most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters")
    return replace(options, tags=tags)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # a port out of range raises only when it is read
    except ValueError as exc:  # an unclosed IPv6 bracket, a port that is not a number
        raise InvalidParameter(f"notification_url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidParameter("notification_url must be an http:// or https:// URL")


class PresetRepository:
    def __init__(
        self, db: Database, policies: PolicyRepository, default_policy: str = "default"
    ) -> None:
        self.db = db
        self.policies = policies
        self.default_policy = default_policy

    def put(self, name: str, options: UploadOptions, actor: str) -> dict[str, Any]:
        """Create or replace a preset."""
        if not _NAME.fullmatch(name):
            raise InvalidParameter("a preset name is 1-64 letters, digits, '_', '.' or '-'")
        options = check_options(options)
        self._check_against_policy(name, options)
        now = datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(UploadPresetRow, name)
            if row is None:
                row = UploadPresetRow(name=name, created_at=now)
                session.add(row)
            row.options, row.updated_by, row.updated_at = options.to_dict(), actor, now
        return self.describe(name)

    def _check_against_policy(self, name: str, options: UploadOptions) -> None:
        """Refuse now what every upload with the preset would be refused: an unknown policy
        (PolicyNotFound), or a context its policy does not take (InvalidPreset). Without a
        policy of its own, the preset's context is checked against the default policy."""
        policy = self.policies.get(options.policy or self.default_policy)
        try:
            resolve_context(policy, options.context, datetime.now(UTC))
        except InvalidParameter as refusal:
            raise InvalidPreset(f"preset '{name}': {refusal.message}") from None

    def get(self, name: str) -> UploadOptions:
        with self.db.session() as session:
            row = session.get(UploadPresetRow, name)
        if row is None:
            raise PresetNotFound(f"no upload preset named '{name}'")
        return UploadOptions.from_dict(row.options)

    def describe(self, name: str, who: Principal | None = None) -> dict[str, Any]:
        """A preset as ``who`` may see it (``None``: in full, for the CLI and admins' writes)."""
        with self.db.session() as session:
            row = session.get(UploadPresetRow, name)
            if row is None:
                raise PresetNotFound(f"no upload preset named '{name}'")
            return _view(row, who)

    def all(self, who: Principal | None = None) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.scalars(select(UploadPresetRow).order_by(UploadPresetRow.name))
            return [_view(row, who) for row in rows]

    def delete(self, name: str) -> dict[str, str]:
        with self.db.session() as session:
            row = session.get(UploadPresetRow, name)
            if row is None:
                raise PresetNotFound(f"no upload preset named '{name}'")
            session.delete(row)
        return {"deleted": name}

    def resolve(self, preset: str | None, given: UploadOptions) -> UploadOptions:
        """The options an upload runs with: what it gave, over its preset's."""
        return check_options(given.over(self.get(preset)) if preset else given)


def _view(row: UploadPresetRow, who: Principal | None) -> dict[str, Any]:
    """A preset as ``who`` may see it: uploaders use presets but don't learn where their
    notifications go (the URL can carry a receiver's token) or who set them up."""
    options = dict(row.options)
    open_to = who is None or who.sees_everything
    if not open_to and options.get("notification_url"):
        options["notification_url"] = REDACTED
    return {
        "name": row.name,
        "options": options,
        "updated_by": row.updated_by if open_to else None,
        "updated_at": row.updated_at.isoformat(),
    }
