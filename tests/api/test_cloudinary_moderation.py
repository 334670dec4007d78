"""Cloudinary-style moderation strings at upload, through the HTTP API with the real detectors.

open_nsfw always reports an "Explicit" score, however low, so ``explicit_nudity:0`` rejects
any photo and ``explicit_nudity:1`` rejects none of these (none scores 100)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient

from tests.api_helpers import error_code, upload
from tests.conftest import Keys, grant_skip_moderation
from tests.images import astronaut_jpeg, chelsea_png, coffee_jpeg
from vigil.app import Vigil
from vigil.storage.blobs import Area
from vigil.storage.db import migrate

REJECT_ANY = "aws_rek:explicit_nudity:0"


def steps(asset: dict[str, Any]) -> list[tuple[str, str]]:
    return [(step["kind"], step["status"]) for step in asset["moderation"]]


def test_plain_modes_record_one_step(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    grant_skip_moderation(vigil, keys.uploader)  # moderation=none needs it (docs/keys.md)
    auto = upload(client, keys, coffee_jpeg()).json()
    assert auto["moderation_mode"] == "auto" and steps(auto) == [("auto", "approved")]
    assert auto["moderation"][0]["updated_at"] == auto["updated_at"]
    assert "thresholds" not in auto["moderation"][0]
    manual = upload(client, keys, coffee_jpeg(), moderation="manual").json()
    assert manual["status"] == "pending" and steps(manual) == [("manual", "pending")]
    unmoderated = upload(client, keys, coffee_jpeg(), moderation="none").json()
    assert steps(unmoderated) == [("none", "approved")] and unmoderated["decision"] is None
    review = upload(client, keys, coffee_jpeg(), policy="review-all").json()
    assert steps(review) == [("auto", "review")]


def test_aws_rek_alone_is_the_chosen_policy(client: TestClient, keys: Keys) -> None:
    asset = upload(client, keys, chelsea_png(), moderation="aws_rek").json()
    assert asset["status"] == "approved" and asset["decision"]["policy"] == "default"
    assert asset["moderation"] == [
        {
            "kind": "aws_rek",
            "status": "approved",
            "thresholds": {},
            "updated_at": asset["updated_at"],
        }
    ]
    blocked = upload(client, keys, chelsea_png(), moderation="aws_rek", policy="block-all").json()
    assert blocked["status"] == "rejected" and steps(blocked) == [("aws_rek", "rejected")]


def test_a_zero_threshold_rejects_into_quarantine(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    asset = upload(client, keys, astronaut_jpeg(), moderation=REJECT_ANY).json()
    assert asset["status"] == "rejected" and asset["moderation_mode"] == REJECT_ANY
    assert asset["decision"]["rule"] == "Explicit.block" and asset["decision"]["threshold"] == 0
    assert asset["moderation"][0]["thresholds"] == {"Explicit": 0.0}
    assert vigil.blobs.exists(Area.QUARANTINE, asset["id"])
    refused = client.get(f"/v1/assets/{asset['id']}/content", headers=keys.auth("uploader"))
    assert refused.status_code == 403


def test_thresholds_apply_on_top_of_the_chosen_policy(client: TestClient, keys: Keys) -> None:
    # block-all blocks Explicit at 0; the request's thresholds replace that band ...
    for moderation in ("aws_rek:explicit_nudity:1", "aws_rek:explicit:ignore"):
        asset = upload(client, keys, coffee_jpeg(), moderation=moderation, policy="block-all")
        assert asset.json()["status"] == "approved", moderation
    # ... while a category the string does not name keeps the policy's band.
    other = upload(client, keys, coffee_jpeg(), moderation="aws_rek:violence:1", policy="block-all")
    assert other.json()["status"] == "rejected"
    assert other.json()["moderation"][0]["thresholds"] == {"Violence": 1.0}


def test_every_threshold_is_reported_by_model_7_name(client: TestClient, keys: Keys) -> None:
    moderation = "aws_rek:explicit_nudity:0.7:hate_symbols:0.6:suggestive:ignore"
    asset = upload(client, keys, coffee_jpeg(), moderation=moderation).json()
    assert asset["status"] == "approved" and asset["moderation_mode"] == moderation
    assert asset["moderation"][0]["thresholds"] == {
        "Explicit": 0.7,
        "Non-Explicit Nudity of Intimate parts and Kissing": "ignore",
        "Swimwear or Underwear": "ignore",
        "Hate Symbols": 0.6,
    }


def test_a_rejecting_step_aborts_the_manual_one(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    asset = upload(client, keys, coffee_jpeg(), moderation=f"{REJECT_ANY}|manual").json()
    assert asset["status"] == "rejected"
    assert steps(asset) == [("aws_rek", "rejected"), ("manual", "aborted")]
    assert vigil.blobs.exists(Area.QUARANTINE, asset["id"])
    path = f"/v1/assets/{asset['id']}"
    _, moderated = client.get(f"{path}/audit", headers=keys.auth("uploader")).json()["events"]
    assert moderated["to_status"] == "rejected" and "block threshold 0.0" in moderated["reason"]
    explanation = client.get(f"{path}/explain", headers=keys.auth("uploader")).json()
    assert "manual step was aborted" in explanation["explanation"]
    # An override answers no aborted step: the steps stay as the upload left them.
    approved = client.post(
        f"{path}/moderation", headers=keys.auth("reviewer"), json={"status": "approved"}
    ).json()
    assert approved["status"] == "approved" and approved["moderation"] == asset["moderation"]


def test_a_passing_step_leaves_the_asset_pending_for_a_person(
    client: TestClient, keys: Keys
) -> None:
    asset = upload(client, keys, coffee_jpeg(), moderation="aws_rek|manual").json()
    assert asset["status"] == "pending" and asset["decision"]["action"] == "allow"
    assert steps(asset) == [("aws_rek", "approved"), ("manual", "pending")]
    path = f"/v1/assets/{asset['id']}"
    assert client.get(f"{path}/content", headers=keys.auth("uploader")).status_code == 403
    created, moderated = client.get(f"{path}/audit", headers=keys.auth("uploader")).json()["events"]
    assert created["reason"] == "moderation=aws_rek|manual"
    assert moderated["to_status"] == "pending"

    decided = client.post(
        f"{path}/moderation", headers=keys.auth("reviewer"), json={"status": "approved"}
    ).json()
    assert steps(decided) == [("aws_rek", "approved"), ("manual", "approved")]
    assert decided["moderation"][0] == asset["moderation"][0]
    assert decided["moderation"][1]["updated_at"] == decided["updated_at"]
    assert client.get(f"{path}/content", headers=keys.auth("uploader")).status_code == 200
    # A later override changes the asset, not the manual step a person already settled.
    again = client.post(
        f"{path}/moderation", headers=keys.auth("reviewer"), json={"status": "rejected"}
    ).json()
    assert again["status"] == "rejected" and steps(again) == steps(decided)


def test_auto_then_manual_records_a_review(client: TestClient, keys: Keys) -> None:
    asset = upload(
        client, keys, coffee_jpeg(), moderation="auto|manual", policy="review-all"
    ).json()
    assert asset["status"] == "pending"
    assert steps(asset) == [("auto", "review"), ("manual", "pending")]
    fetched = client.get(f"/v1/assets/{asset['id']}", headers=keys.auth("uploader")).json()
    assert fetched["moderation"] == asset["moderation"]
    listed = client.get("/v1/assets", headers=keys.auth("uploader")).json()["assets"]
    assert listed[0]["moderation"] == asset["moderation"]


def test_bad_strings_are_refused_and_store_nothing(client: TestClient, keys: Keys) -> None:
    refusals = {
        "aws_rek:explict_nudity:0.5": "did you mean 'explicit_nudity'?",
        "aws_rek:violence:1.5": "must be a number from 0 to 1",
        "aws_rek:violence": "'violence' has no threshold",
        "none|manual": "'none' cannot be chained",
        "manual|aws_rek": "'manual' must be the last step",
    }
    for moderation, fragment in refusals.items():
        response = upload(client, keys, coffee_jpeg(), moderation=moderation)
        assert response.status_code == 400 and error_code(response) == "InvalidParameter"
        assert fragment in response.json()["error"]["message"], moderation
    # The field is checked before the file, so a bad string is reported even with no bytes.
    empty = upload(client, keys, b"", moderation="sometimes")
    assert error_code(empty) == "InvalidParameter"
    assert client.get("/v1/assets", headers=keys.auth("admin")).json()["assets"] == []


def test_migration_0004_gives_older_assets_an_empty_step_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", "vigil.storage:migrations")
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0003")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO api_keys (id, key_hash, role, name, created_at) "
                "VALUES ('k', 'h', 'admin', '', '2026-01-01')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO assets (id, owner_key_id, filename, format, mime, size_bytes, "
                "width, height, sha256, status, moderation_mode, storage_area, labels, "
                "content_types, model_version, created_at, updated_at) VALUES ('a', 'k', "
                "'f', 'png', 'image/png', 1, 1, 1, 's', 'approved', 'auto', 'originals', "
                "'[]', '[]', '', '2026-01-01', '2026-01-01')"
            )
        )
    migrate(url)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT moderation_steps FROM assets")).scalar_one()
    engine.dispose()
    assert stored == "[]"
    command.downgrade(config, "0003")  # and back, on SQLite's batch copy
