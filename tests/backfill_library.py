"""A small media library for backfill tests: images (and garbage) in a bucket or a folder,
and a policy the graphic detector changes the decision of."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
from sqlalchemy import select

from tests.images import astronaut_jpeg, chelsea_png, coffee_jpeg, encode
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow

GARBAGE = b"\x00\x01garbage, not an image\xff" * 8
# Blocks on Graphic Violence only: open_nsfw alone never trips it; once the graphic detector
# runs, it always does (its score is reported however low), so a re-scan flips the decision.
BLOCK_GRAPHIC = "name: block-graphic\ncategories:\n  Graphic Violence: {block: 0}\n"


def library() -> dict[str, bytes]:
    """Object names (under ``library/``) and their bytes: small photos and one garbage."""
    small = {
        "a.jpg": astronaut_jpeg(),
        "b.png": chelsea_png(),
        "c.jpg": coffee_jpeg(),
    }
    shrunk = {name: _shrunk(data) for name, data in small.items()}
    return {**{f"library/{name}": data for name, data in shrunk.items()}, "library/zz.bin": GARBAGE}


def _shrunk(data: bytes) -> bytes:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.thumbnail((160, 160))
    return encode(image)


def fill_bucket(endpoint: str, bucket: str, objects: dict[str, bytes]) -> None:
    client = boto3.client("s3", endpoint_url=endpoint)
    for key, data in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)
    client.put_object(Bucket=bucket, Key="elsewhere/skip.jpg", Body=b"outside the prefix")


def fill_folder(root: Path, objects: dict[str, bytes]) -> Path:
    for key, data in objects.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return root / "library"


def policy_dir(root: Path) -> Path:
    folder = root / "policies"
    folder.mkdir(exist_ok=True)
    (folder / "block-graphic.yaml").write_text(BLOCK_GRAPHIC)
    return folder


def read_report(path: Path) -> dict[str, dict[str, Any]]:
    """A JSON Lines report's lines by file (an object's name)."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return {line["file"]: line for line in lines}


def decisions(report: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each file's action and rule, or its error code: what must match across runs."""
    return {
        name: (line["decision"]["action"], line["decision"]["rule"])
        if "decision" in line
        else line["error"]["code"]
        for name, line in report.items()
    }


def stored(root: Path) -> dict[str, dict[str, Any]]:
    """Each stored asset's status, model version, labels, action and storage area."""
    db = Database(f"sqlite:///{root / 'data' / 'vigil.db'}")
    with db.session() as session:
        rows = session.scalars(select(AssetRow))
        found = {
            row.id: {
                "status": row.status,
                "model_version": row.model_version,
                "labels": {label["Name"] for label in row.labels},
                "action": (row.decision or {}).get("action"),
                "area": row.storage_area,
            }
            for row in rows
        }
    db.dispose()
    return found


def audit(root: Path, action: str) -> list[AuditEventRow]:
    """The audit events of ``action`` in the data directory under ``root``."""
    db = Database(f"sqlite:///{root / 'data' / 'vigil.db'}")
    with db.session() as session:
        events = list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == action)))
        session.expunge_all()
    db.dispose()
    return events


def check_rescanned(root: Path, before: dict[str, dict[str, Any]]) -> list[AuditEventRow]:
    """Every asset blocked by the new detector's label, versioned, with the audit saying why."""
    after = stored(root)
    assert set(after) == set(before) and len(after) == 3
    for asset_id, now in after.items():
        assert (
            "graphic@" in now["model_version"]
            and "graphic@" not in before[asset_id]["model_version"]
        )
        assert (
            "Graphic Violence" in now["labels"]
            and "Graphic Violence" not in before[asset_id]["labels"]
        )
        assert (now["status"], now["action"], now["area"]) == ("rejected", "block", "quarantine")
    events = audit(root, "rescanned")
    assert {event.asset_id for event in events} == set(after)
    assert all(event.reason.startswith("rescan: detectors nsfw,graphic (") for event in events)
    assert all((event.from_status, event.to_status) == ("approved", "rejected") for event in events)
    return events
