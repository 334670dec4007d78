"""`vigil archive ...` as a real process."""

from __future__ import annotations

import json
from pathlib import Path

from tests.archived_assets import decided, uploader
from tests.cli_runner import run
from vigil.app import build, prepare_storage
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings


def test_archive_run_and_restore(tmp_path: Path, engine: ModerationEngine) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    prepare_storage(settings)
    vigil = build(settings, engine)
    try:
        asset_id = decided(vigil, uploader(vigil))
    finally:
        vigil.close()
    ran = run("archive", "run", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"archived": 1}
    restored = run("archive", "restore", asset_id, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["archived_at"] is None
    again = run("archive", "restore", asset_id, cwd=tmp_path)
    assert again.returncode == 2 and "InvalidTransition" in again.stderr


def test_a_storage_class_that_needs_hours_is_refused_at_start(tmp_path: Path) -> None:
    refused = run(
        "archive", "run", cwd=tmp_path, env={"VIGIL_S3_ARCHIVE_STORAGE_CLASS": "DEEP_ARCHIVE"}
    )
    assert refused.returncode == 2
    assert "InvalidParameter" in refused.stderr and "GLACIER_IR" in refused.stderr
