"""Review queues and the dashboard at a million assets, on SQLite and PostgreSQL.

Bulk-loads ``--assets`` assets (default 1,000,000) spread over the last year: most approved
by the machine, some blocked, some sent to review or sampled for QA. Those of the last two
weeks still wait in their queues (open items); older ones were decided by people (done
items, with their decisions). Then, through the service layer as the API and the console
call it, times a queue read (``ReviewService.items``, its sync included), a claim
(``claim_next``, by a new reviewer each time so each claims a fresh item) and the dashboard
(``stats`` over the default 30 days), and prints the median of ``--runs`` runs of each.
PostgreSQL is a throw-away cluster started for the run (Debian's postgresql package) unless
--postgres-url names one; --skip-postgres runs SQLite only.

Run: .venv/bin/python benchmarks/review_scale.py [--assets 100000] [--runs 20]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.servers

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text

from tests.servers import start_postgres
from vigil.app import Vigil, build, prepare_storage
from vigil.service.core.windows import window
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.review.people import PersonRole, person
from vigil.service.review.stats import stats
from vigil.settings import Settings
from vigil.storage.tables import ApiKeyRow, AssetRow, ReviewDecisionRow, ReviewItemRow

CHUNK = 10_000
DAYS = 365
STILL_WAITING_DAYS = 14  # review and QA assets younger than this wait in their queues
LIMIT_MS = 50.0
NOW = datetime.now(UTC)
# Per 100 assets: the machine's action, the status it left, and whether it was QA-sampled.
MIX = [("allow", "approved", False)] * 88 + [("block", "rejected", False)] * 4
MIX += [("review", "review", True)] * 2 + [("review", "review", False)] * 6


def asset_rows(count: int, owner: str) -> Iterator[dict[str, Any]]:
    for n in range(count):
        action, status, sampled = MIX[n % len(MIX)]
        created = NOW - timedelta(days=DAYS * n / count, seconds=n % 977)
        waiting = status == "review" and created > NOW - timedelta(days=STILL_WAITING_DAYS)
        if status == "review" and not waiting:  # a person decided it long ago
            status = "rejected" if n % 3 == 0 else "approved"
        yield _asset(f"a{n:011d}", owner, action, status, sampled, created)


def _asset(
    asset_id: str, owner: str, action: str, status: str, sampled: bool, created: datetime
) -> dict[str, Any]:
    label = "Explicit Nudity" if action != "allow" else "Suggestive"
    decision = {"action": action, "rule": "qa_sample" if sampled else "default"}
    decision |= {"label": label, "qa_sample": sampled, "reason": "benchmark"}
    return {
        "id": asset_id,
        "owner_key_id": owner,
        "filename": "photo.jpg",
        "format": "jpeg",
        "mime": "image/jpeg",
        "size_bytes": 100_000,
        "width": 640,
        "height": 480,
        "sha256": asset_id.rjust(64, "0"),
        "status": status,
        "moderation_mode": "",
        "storage_area": "quarantine" if status != "approved" else "originals",
        "labels": [
            {
                "Name": label,
                "ParentName": "Explicit" if action != "allow" else "",
                "TaxonomyLevel": 2 if action != "allow" else 1,
                "Confidence": 91.0,
                "Detector": "nsfw",
            }
        ],
        "detections": [],
        "content_types": [],
        "text": "",
        "model_version": "bench",
        "decision": decision,
        "tags": [],
        "moderation_steps": [],
        "media_type": "image",
        "qa_sample": sampled,
        "machine_action": action,
        "review_due": False,
        "decided_at": created,
        "created_at": created,
        "updated_at": created,
    }


def review_rows(asset: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The asset's derived item and, when a person decided it, their decision."""
    decided = asset["status"] != "review"
    created: datetime = asset["created_at"]
    item = {
        "id": f"i{asset['id'][1:]}",
        "asset_id": asset["id"],
        "queue": "qa" if asset["qa_sample"] else "first_pass",
        "round": 0,
        "state": "done" if decided else "open",
        "reviews_needed": 1,
        "opened_by": "system",
        "message": "",
        "outcome": ("reject" if asset["status"] == "rejected" else "approve") if decided else None,
        "created_at": created,
        "decided_at": created + timedelta(hours=1) if decided else None,
    }
    if not decided:
        return item, None
    decision = {
        "item_id": item["id"],
        "asset_id": asset["id"],
        "queue": item["queue"],
        "actor": "user:someone",
        "decision": item["outcome"],
        "reason": "nudity" if item["outcome"] == "reject" else "",
        "note": "",
        "machine_action": "allow" if asset["qa_sample"] else asset["machine_action"],
        "category": "Explicit",
        "disagreed": False,
        "created_at": item["decided_at"],
    }
    return item, decision


def load(vigil: Vigil, count: int) -> None:
    """Insert the assets and their review rows in chunks (one executemany each)."""
    with vigil.db.session() as session:
        owner = session.scalars(select(ApiKeyRow.id).limit(1)).one()
    assets: list[dict[str, Any]] = []
    for row in asset_rows(count, owner):
        assets.append(row)
        if len(assets) == CHUNK:
            _insert_chunk(vigil, assets)
            assets = []
    if assets:
        _insert_chunk(vigil, assets)
    _analyze(vigil)


def _insert_chunk(vigil: Vigil, assets: list[dict[str, Any]]) -> None:
    reviewed = [review_rows(row) for row in assets if row["machine_action"] == "review"]
    with vigil.db.engine.begin() as connection:
        connection.execute(insert(AssetRow), assets)
        if reviewed:
            connection.execute(insert(ReviewItemRow), [item for item, _ in reviewed])
            decisions = [decision for _, decision in reviewed if decision]
            if decisions:
                connection.execute(insert(ReviewDecisionRow), decisions)


def _analyze(vigil: Vigil) -> None:
    """Fresh statistics, as autovacuum would keep them; VACUUM also lets PostgreSQL answer
    from the indexes alone."""
    if vigil.db.engine.dialect.name == "postgresql":
        with vigil.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    else:
        with vigil.db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def median_ms(action: Callable[[int], object], runs: int) -> float:
    action(-1)  # warm the connection pool and the statement caches
    times = []
    for run in range(runs):
        started = time.perf_counter()
        action(run)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(name: str, url: str, data_dir: Path, count: int, runs: int) -> bool:
    settings = Settings(data_dir=data_dir, database_url=url, detectors=["nsfw"])
    prepare_storage(settings)
    vigil = build(settings, ModerationEngine(settings))  # no model is loaded: none is used
    try:
        started = time.perf_counter()
        load(vigil, count)
        loaded_s = time.perf_counter() - started
        alice = person("alice", PersonRole.REVIEWER)
        review = vigil.review
        figures = {
            "queue_read_ms": median_ms(lambda _: review.items(alice, "first_pass"), runs),
            "claim_ms": median_ms(
                lambda n: review.claim_next(person(f"r{n}", PersonRole.REVIEWER), "first_pass"),
                runs,
            ),
            "dashboard_ms": median_ms(lambda _: stats(vigil.db, window(None, None)), runs),
        }
    finally:
        vigil.close()
    shown = " ".join(f"{key}={value:.1f}" for key, value in figures.items())
    print(f"{name} assets={count} {shown} (loaded in {loaded_s:.0f} s)", flush=True)
    return all(value < LIMIT_MS for value in figures.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database to use")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="vigil-review-scale-") as tmp:
        sqlite_url = f"sqlite:///{tmp}/vigil.db"
        ok &= measure("sqlite", sqlite_url, Path(tmp) / "sqlite", args.assets, args.runs)
        if not args.skip_postgres:
            ok &= _postgres(args, Path(tmp) / "postgres")
    print(f"every median under {LIMIT_MS:.0f} ms: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


def _postgres(args: argparse.Namespace, data_dir: Path) -> bool:
    if args.postgres_url:
        return measure("postgresql", args.postgres_url, data_dir, args.assets, args.runs)
    server = start_postgres()  # loopback only, deleted afterwards
    try:
        return measure("postgresql", server.url, data_dir, args.assets, args.runs)
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
