"""Lists are shared by every process through the database: a hash added (or removed) in one
process matches (or stops matching) in another, a real second process, within 5 seconds."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from vigil.service.access.principal import Principal, Role
from vigil.service.hashlists.matcher import HashMatcher
from vigil.service.hashlists.model import MatchRules
from vigil.service.hashlists.service import HashListService
from vigil.storage.db import Database, migrate

ADMIN = Principal("admin-key", Role.ADMIN)
WITHIN_SECONDS = 5.0

# The other worker: a matcher of its own, polling as a worker's lookups would; it prints
# "ready" once it has loaded the lists, then how long each change took to reach it.
WORKER = """
import sys, time
from vigil.service.hashlists.matcher import HashMatcher
from vigil.service.hashlists.model import MatchRules
from vigil.storage.db import Database

matcher = HashMatcher(Database(sys.argv[1]), MatchRules(refresh_seconds=2.0))
wanted = [bytes.fromhex(sys.argv[2])]
matcher.refresh(force=True)
print("ready", flush=True)
for expected in (True, False):
    sys.stdin.readline()  # the other process changed the list
    started = time.monotonic()
    while bool(matcher.find(wanted)) is not expected:
        if time.monotonic() - started > 30:
            print("timeout", flush=True)
            sys.exit(1)
        time.sleep(0.05)
    print(f"{time.monotonic() - started:.3f}", flush=True)
"""


def test_a_hash_added_in_one_process_matches_in_another(database_url: str) -> None:
    migrate(database_url)
    db = Database(database_url)
    rules = MatchRules(refresh_seconds=2.0)
    lists = HashListService(db, rules, HashMatcher(db, rules), lambda data: NotImplemented)
    lists.create(ADMIN, "shared", "block")
    digest = bytes(np.random.default_rng(5).integers(0, 256, 32, dtype=np.uint8)).hex()
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, database_url, digest],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdin is not None and worker.stdout is not None
    try:
        assert worker.stdout.readline().strip() == "ready"
        lists.add_hashes(ADMIN, "shared", [digest])
        added_at = time.monotonic()
        worker.stdin.write("added\n")
        worker.stdin.flush()
        seen = float(worker.stdout.readline())
        assert time.monotonic() - added_at < WITHIN_SECONDS and seen < WITHIN_SECONDS
        lists.remove(ADMIN, "shared", digest)
        worker.stdin.write("removed\n")
        worker.stdin.flush()
        assert float(worker.stdout.readline()) < WITHIN_SECONDS
        assert worker.wait(timeout=30) == 0
    finally:
        worker.kill()
        db.dispose()
