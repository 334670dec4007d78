"""`vigil webhooks ...` as a real process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run
from vigil.app import build, prepare_storage
from vigil.service.core.events import REJECTED, make_event
from vigil.settings import Settings

ALLOW = {"VIGIL_WEBHOOK_ALLOW_PRIVATE": "true"}


def _publish(data_dir: Path) -> None:
    """An event, as the moderation path raises it, for the CLI to find in the log."""
    settings = Settings(data_dir=data_dir)
    prepare_storage(settings)
    vigil = build(settings)
    try:
        with vigil.db.session() as session:
            event = make_event(REJECTED, {"id": "a1", "status": "rejected", "labels": []})
            assert vigil.webhooks.enqueue_deliveries(session, event) == 1
    finally:
        vigil.close()


def test_add_list_deliveries_redeliver_remove(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/hook"
    refused = run("webhooks", "add", url, "--event", REJECTED, cwd=tmp_path)
    assert refused.returncode == 2 and "UnsafeWebhookTarget" in refused.stderr
    added = run(
        "webhooks",
        "add",
        url,
        "--event",
        REJECTED,
        "--event",
        "asset.decided",
        cwd=tmp_path,
        env=ALLOW,
    )
    assert added.returncode == 0, added.stderr
    webhook = json.loads(added.stdout)
    assert webhook["events"] == [REJECTED, "asset.decided"] and webhook["secret"]
    listed = json.loads(run("webhooks", "list", cwd=tmp_path).stdout)
    assert [w["id"] for w in listed] == [webhook["id"]]

    _publish(tmp_path / "data")
    (delivery,) = json.loads(
        run("webhooks", "deliveries", "--status", "pending", cwd=tmp_path).stdout
    )
    assert delivery["url"] == url and delivery["event_type"] == REJECTED
    assert (
        json.loads(run("webhooks", "deliveries", "--status", "failed", cwd=tmp_path).stdout) == []
    )
    redelivered = json.loads(run("webhooks", "redeliver", delivery["id"], cwd=tmp_path).stdout)
    assert redelivered["delivery"]["id"] == delivery["id"]
    shown = json.loads(run("webhooks", "show", delivery["id"], cwd=tmp_path).stdout)
    assert shown["payload"]["type"] == REJECTED and shown["attempts"] == []

    removed = run("webhooks", "remove", webhook["id"], cwd=tmp_path)
    assert json.loads(removed.stdout) == {"deleted": webhook["id"]}
    missing = run("webhooks", "remove", webhook["id"], cwd=tmp_path)
    assert missing.returncode == 2 and "WebhookNotFound" in missing.stderr
    unknown = run("webhooks", "add", url, "--event", "asset.deleted", cwd=tmp_path, env=ALLOW)
    assert unknown.returncode == 2 and "InvalidParameter" in unknown.stderr


def test_secret_is_generated_once_or_taken_from_the_setting(tmp_path: Path) -> None:
    first = json.loads(run("webhooks", "secret", cwd=tmp_path).stdout)
    assert first["source"] == "generated" and first["secret"].startswith("whsec_")
    assert json.loads(run("webhooks", "secret", cwd=tmp_path).stdout) == first
    configured = run("webhooks", "secret", cwd=tmp_path, env={"VIGIL_WEBHOOK_SECRET": "s3cret"})
    assert json.loads(configured.stdout) == {"secret": "s3cret", "source": "setting"}
