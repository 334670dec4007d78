"""The policy versions a one-shot command (`vigil moderate`, `vigil scan`) last read from the
embedded database, kept so that the next run can leave the database closed (docs/speed.md,
"CLI start-up").

Reaching the active version of a policy costs such a command about a third of its start-up:
importing SQLAlchemy and its ORM, the migration check and re-reading every policy file. None of
that can change the answer while nothing it came from has changed. So, after reading the
database, the command stores the versions it used in ``DATA_DIR/one-shot-policies.json`` with
a fingerprint of everything that decides them:
- the SQLite file and its write-ahead log (device, inode, size and modification time; an empty
  log counts as none): every commit by any process (a version activated, a hash-list item
  added, a restored file) changes at least one of them. (Not the change time: SQLite running
  as root re-owns the log each time it opens it.)
- the text of every policy file (the full path imports changed files as new versions);
- vigil's version and the settings that name the database and the default policy and turn
  hash lists on.
The next run uses a stored version only when the fingerprint is the same.

Only the embedded SQLite database qualifies: with ``VIGIL_DATABASE_URL`` set, other machines
change the database where no local file shows it. So does a database with hash-list items only
while hash lists are off: matching against them needs the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil import __version__
from vigil.policy.loader import stored_version
from vigil.policy.model import Policy
from vigil.policy.sources import policy_sources
from vigil.settings import Settings

FILE_NAME = "one-shot-policies.json"
DATABASE_FILES = ("vigil.db", "vigil.db-wal")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredVersion:
    """One policy version as the database holds it."""

    name: str
    number: int
    source: str  # the YAML text


def fingerprint(settings: Settings) -> str | None:
    """What the stored versions depend on, as one digest; None when nothing may be stored
    (another database than the embedded one, or none yet)."""
    if settings.database_url or not (settings.data_dir / DATABASE_FILES[0]).exists():
        return None
    files = hashlib.sha256()
    for source in policy_sources(settings.policy_dir):
        files.update(f"{source.origin}\0{source.text}\0".encode())
    facts = {
        "vigil": __version__,
        "database": [_identity(settings.data_dir / name) for name in DATABASE_FILES],
        "policy_files": files.hexdigest(),
        "hashlists": settings.hashlists_enabled,
        "default_policy": settings.default_policy,  # the full path checks that it exists
    }
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()


def cached_policy(settings: Settings, name: str) -> Policy | None:
    """The active version of ``name`` as stored by an earlier run, if nothing it depends on
    has changed since; else None (the caller reads the database)."""
    current = fingerprint(settings)
    stored = _read(settings.data_dir / FILE_NAME)
    if current is None or stored.get("fingerprint") != current:
        log.debug("policy snapshot: not used (%s)", "files changed" if stored else "none kept")
        return None
    found = stored.get("policies", {}).get(name)
    try:
        return stored_version(name, int(found["number"]), str(found["source"]))
    except (KeyError, TypeError, ValueError):  # not an entry this module wrote
        return None


def store(settings: Settings, version: StoredVersion, seen: str) -> None:
    """Keep ``version`` for the next run, under ``seen``: the fingerprint taken before it was
    read. Nothing is kept if the files changed meanwhile (a commit while it was read)."""
    if fingerprint(settings) != seen:
        return
    path = settings.data_dir / FILE_NAME
    stored = _read(path)
    kept = stored.get("policies", {}) if stored.get("fingerprint") == seen else {}
    kept[version.name] = {"number": version.number, "source": version.source}
    try:
        _write_atomically(path, json.dumps({"fingerprint": seen, "policies": kept}))
    except OSError as exc:  # a shortcut only: the command goes on without it
        log.debug("policy snapshot: not stored (%s)", exc)


def _identity(path: Path) -> list[int] | None:
    """None for a missing or empty file: an empty log holds no commit (a reader that ends
    without closing its connection leaves one), so it is the same database as none."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    if not found.st_size:
        return None
    return [found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns]


def _read(path: Path) -> dict[str, Any]:
    """The stored file; empty when it is missing or unreadable (it is only ever a shortcut)."""
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never a part (it holds policy texts: 0600)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)  # gone after the replace; a failed write's leftover
