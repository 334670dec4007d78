"""The server secret that signs notification_url deliveries, and each key's secret derived
from it (docs/webhooks.md).

The server secret is ``VIGIL_WEBHOOK_SECRET``, or one generated on first use and kept in the
database, so every process of this instance signs alike. A key's secret is
HMAC-SHA256(server secret, key id): nothing new is stored, and the key's holder can read it
(``GET /v1/keys/{id}/signing-secret``), but not another key's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from vigil.notify.signing import key_secret, new_secret
from vigil.settings import Settings
from vigil.storage.db import Database
from vigil.storage.tables import InstanceValueRow

SECRET_NAME = "webhook_secret"


class ServerSecret:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._generated: str | None = None

    @property
    def source(self) -> str:
        return "setting" if self.settings.webhook_secret else "generated"

    def value(self) -> str:
        if self.settings.webhook_secret:
            return self.settings.webhook_secret
        if self._generated is None:
            self._generated = self._stored() or self._store(new_secret())
        return self._generated

    def for_key(self, key_id: str) -> str:
        """The secret that signs the notification_url deliveries of ``key_id``'s uploads."""
        return key_secret(self.value(), key_id)

    def _stored(self) -> str | None:
        with self.db.session() as session:
            row = session.get(InstanceValueRow, SECRET_NAME)
            return row.value if row else None

    def _store(self, secret: str) -> str:
        try:
            with self.db.session() as session:
                session.add(
                    InstanceValueRow(name=SECRET_NAME, value=secret, created_at=datetime.now(UTC))
                )
            return secret
        except IntegrityError:
            # Another process stored one first: use that, or the two would sign differently.
            stored = self._stored()
            assert stored is not None
            return stored
