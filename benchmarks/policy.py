"""Policy simulation and threshold suggestion on a large synthetic history, against a naive
replay run in the same process as a baseline.

Builds a temporary SQLite database (real migrations) holding --rows synthetic assets: a few
detector findings each, scores drawn from skewed distributions (most uploads harmless, a few
explicit or violent), stored decisions made by the built-in default policy, and a person's
override on about 5% of them. Then prints medians of --runs for:
- simulate(): a candidate (the default with lower Explicit thresholds, a QA sample and a
  review trigger) against the active default;
- suggest() at precision 0.95;
- the baseline: full ORM rows one by one, build_labels and evaluate (context resolved per
  row, nothing cached) for both policies, and the ratio between the two.

Run: .venv/bin/python benchmarks/policy.py [--rows 100000] [--runs 3] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import insert, select

from vigil.detectors.base import Box, Detection
from vigil.errors import InvalidParameter
from vigil.labels import build_labels
from vigil.policy.context import CONTEXT_KEYS, PolicyContext, resolve_context
from vigil.policy.evaluate import evaluate
from vigil.policy.loader import parse_policy
from vigil.policy.model import Policy
from vigil.service.core.status import STATUS_FOR_ACTION
from vigil.service.policies.simulation import MODERATED, simulate
from vigil.service.policies.suggestions import suggest
from vigil.storage.db import Database, migrate
from vigil.storage.tables import ApiKeyRow, AssetRow, AuditEventRow

T = TypeVar("T")
NOW = datetime(2025, 6, 1, tzinfo=UTC)
EXPOSED = [
    "Exposed Female Nipple",
    "Exposed Buttocks or Anus",
    "Exposed Female Genitalia",
    "Exposed Male Genitalia",
]
COVERED = ["Female Swimwear or Underwear", "Male Swimwear or Underwear", "Exposed Male Nipple"]
AUDIENCES = ["adult"] * 17 + ["13_17", "13_17", "under_13"]


# -- synthetic history ------------------------------------------------------------------------


def detections(rng: random.Random) -> list[dict[str, Any]]:
    """open_nsfw and the graphic classifier (both score every image) and NudeNet boxes: most
    uploads are harmless, about 6% explicit and 3% violent."""
    kind = rng.random()
    nude, violent_kind = kind < 0.06, 0.06 <= kind < 0.09
    explicit = rng.betavariate(6, 1.5) if nude else rng.betavariate(0.6, 12)
    violent = rng.betavariate(5, 2) if violent_kind else rng.betavariate(0.5, 20)
    found = [
        Detection("Explicit", 100 * explicit, "nsfw"),
        Detection("Explicit", 100 * min(1.0, explicit * rng.uniform(0.7, 1.2)), "graphic"),
        Detection("Graphic Violence", 100 * violent, "graphic"),
    ]
    boxes = rng.randint(1, 3) if nude else int(rng.random() < 0.15)
    for _ in range(boxes):
        box = Box(rng.random() * 0.7, rng.random() * 0.7, 0.2, 0.2)
        label, score = (
            (rng.choice(EXPOSED), rng.uniform(50, 95))
            if nude
            else (rng.choice(COVERED), rng.uniform(25, 75))
        )
        found.append(Detection(label, score, "nudity", box))
    return [item.to_dict() for item in found]


def person(rng: random.Random, found: list[dict[str, Any]]) -> str:
    """People mostly reject what scores high, with disagreement near the middle."""
    worst = max(
        item["Confidence"] for item in found if item["Name"] != "Male Swimwear or Underwear"
    )
    return "rejected" if rng.gauss(worst, 12) >= 60 else "approved"


def history(
    rng: random.Random, count: int, owner: str, policy: Policy
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(asset row, override event or None) as the upload path would have stored them."""
    for number in range(count):
        created = NOW - timedelta(seconds=rng.randrange(60 * 24 * 3600))
        found = detections(rng)
        context = resolve_context(policy, {"audience": rng.choice(AUDIENCES)}, created)
        sha256 = f"{number:064x}"
        labels = build_labels(Detection.from_dict(item) for item in found)
        decision = evaluate(labels, policy, context=context, sample_key=sha256)
        status = STATUS_FOR_ACTION[decision.action].value
        asset = {
            "id": f"a{number:011d}",
            "owner_key_id": owner,
            "filename": f"{number}.jpg",
            "format": "JPEG",
            "mime": "image/jpeg",
            "size_bytes": 120_000,
            "width": 1024,
            "height": 768,
            "sha256": sha256,
            "status": status,
            "moderation_mode": "auto",
            "storage_area": "quarantine" if status == "rejected" else "originals",
            "labels": [label.to_dict() for label in labels],
            "detections": found,
            "content_types": [],
            "model_version": "synthetic",
            "decision": decision.to_dict(),
            "created_at": created,
            "updated_at": created,
        }
        # People settle most of the review queue and spot-check 8% of the rest; only a
        # change of status leaves an override event.
        checked = rng.random() < (0.9 if status == "review" else 0.08)
        verdict = person(rng, found) if checked else None
        event = None
        if verdict is not None and verdict != status:
            event = {
                "asset_id": asset["id"],
                "actor": "reviewer",
                "action": "override",
                "from_status": status,
                "to_status": verdict,
                "reason": "",
                "created_at": created + timedelta(hours=1),
            }
        yield asset, event


def build_database(path: Path, count: int, seed: int, active: Policy) -> tuple[Database, int]:
    """The database and how many overrides it holds. Core inserts in chunks, no ORM objects."""
    url = f"sqlite:///{path}"
    migrate(url)
    db = Database(url)
    rng = random.Random(seed)
    with db.engine.begin() as connection:
        connection.execute(
            insert(ApiKeyRow),
            [{"id": "k", "key_hash": "0" * 64, "role": "uploader", "created_at": NOW}],
        )
        overrides = 0
        for chunk in chunks(history(rng, count, "k", active), 5000):
            connection.execute(insert(AssetRow), [asset for asset, _ in chunk])
            events = [event for _, event in chunk if event is not None]
            if events:
                connection.execute(insert(AuditEventRow), events)
            overrides += len(events)
    return db, overrides


def chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- the naive baseline -----------------------------------------------------------------------


def naive_context(policy: Policy, stored: Mapping[str, Any], created: datetime) -> PolicyContext:
    """resolve_context per row, each stored value tried on its own (refused ones dropped)."""
    now = datetime.fromisoformat(stored["now"]) if stored.get("now") else created
    raw: dict[str, str] = {}
    for key in CONTEXT_KEYS:
        value = stored.get(key)
        if value is not None and key in policy.context:
            try:
                resolve_context(policy, {key: value}, now)
                raw[key] = value
            except InvalidParameter:
                pass
    return resolve_context(policy, raw, now, stored.get("content_types") or ())


def naive_simulate(db: Database, candidate: Policy, active: Policy) -> Counter[tuple[str, str]]:
    """(active action, candidate action) per asset, the obvious way."""
    pairs: Counter[tuple[str, str]] = Counter()
    with db.session() as session:
        for row in session.scalars(select(AssetRow)):
            if row.moderation_mode not in MODERATED or not row.detections:
                continue
            labels = build_labels(Detection.from_dict(item) for item in row.detections)
            stored = (row.decision or {}).get("context") or {}
            created = row.created_at.replace(tzinfo=UTC)
            actions = [
                evaluate(
                    labels,
                    policy,
                    context=naive_context(policy, stored, created),
                    sample_key=row.sha256,
                ).action
                for policy in (active, candidate)
            ]
            pairs[(actions[0], actions[1])] += 1
    return pairs


# -- timing -----------------------------------------------------------------------------------


def median_seconds(action: Callable[[], T], runs: int) -> tuple[float, T]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def candidate_from(active_text: str) -> Policy:
    text = active_text.replace(
        "Explicit: {review: 50, block: 85}", "Explicit: {review: 40, block: 80}"
    )
    text += "review_triggers:\n  - {label: Graphic Violence, min: 35, max: 50}\n"
    text += "qa_sample: {percent: 2}\n"
    return parse_policy(text, source="candidate")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    text = (resources.files("vigil.policy.policies") / "default.yaml").read_text()
    active, candidate = parse_policy(text, source="default"), candidate_from(text)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        db, overrides = build_database(Path(folder) / "vigil.db", args.rows, args.seed, active)
        built = time.perf_counter() - start
        print(f"database: {args.rows} assets, {overrides} overrides, built in {built:.1f} s")

        fast, report = median_seconds(lambda: simulate(db, candidate, active, None), args.runs)
        print(
            f"simulate        {fast:7.3f} s  {report.total / fast:10,.0f} assets/s  "
            f"({report.changes.total()} decisions change)"
        )
        hints, found = median_seconds(lambda: suggest(db, 0.95, None), args.runs)
        decided = max(suggestion.decided for suggestion in found)
        print(f"suggest         {hints:7.3f} s  {decided / hints:10,.0f} decided assets/s")

        naive, pairs = median_seconds(lambda: naive_simulate(db, candidate, active), args.runs)
        print(f"naive baseline  {naive:7.3f} s  {pairs.total() / naive:10,.0f} assets/s")
        print(f"simulate / baseline time: {fast / naive:.3f} ({naive / fast:.1f}x faster)")
        same = (
            all(
                pairs[(before, after)] == report.changes[(before, after)]
                for before, after in pairs
                if before != after
            )
            and Counter(after for _, after in pairs.elements()) == report.candidate_actions
        )
        print(f"same decisions as the baseline: {'yes' if same else 'NO'} (median of {args.runs})")
        db.dispose()


if __name__ == "__main__":
    main()
