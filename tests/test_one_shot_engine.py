"""``moderation_engine``: what `vigil moderate` and `vigil scan` build instead of the whole app
object (issue 17): the database prepared, the policy, its detectors loaded and the hash lists
attached as ``build`` attaches them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vigil.app import moderation_engine
from vigil.errors import InvalidParameter, PolicyNotFound
from vigil.service.access.principal import Principal, Role
from vigil.service.hashlists.matcher import HashMatcher
from vigil.service.hashlists.model import MatchRules
from vigil.service.hashlists.service import HashListService
from vigil.service.policies import one_shot_snapshot
from vigil.service.policies.repository import PolicyRepository
from vigil.settings import Settings
from vigil.storage.db import Database

ADMIN = Principal("admin-key", Role.ADMIN)


def _settings(tmp_path: Path, policy_dir: Path, **overrides: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", policy_dir=policy_dir, detectors=["nsfw"], **overrides
    )


def test_it_prepares_the_database_and_loads_the_policys_detectors(
    tmp_path: Path, policy_dir: Path
) -> None:
    settings = _settings(tmp_path, policy_dir)
    engine, policy = moderation_engine(settings)
    try:
        assert policy.name == settings.default_policy
        assert engine.ready and [d.name for d in engine.detectors] == ["nsfw"]
        assert engine.known is not None  # hash lists are on by default
    finally:
        engine.close()
    chosen, named = moderation_engine(settings, "block-all")  # a policy file imported
    chosen.close()
    assert named.name == "block-all"


def test_refusals_are_those_of_build(tmp_path: Path, policy_dir: Path) -> None:
    with pytest.raises(PolicyNotFound):
        moderation_engine(_settings(tmp_path, policy_dir), "no-such-policy")
    with pytest.raises(InvalidParameter, match="VIGIL_HASHLIST_REJECTED_ACTION"):
        moderation_engine(_settings(tmp_path, policy_dir, hashlist_rejected_action="allow"))
    engine, _ = moderation_engine(_settings(tmp_path, policy_dir, hashlists_enabled=False))
    engine.close()
    assert engine.known is None


# The snapshot of the policy (vigil/service/policies/one_shot_snapshot.py): a second run
# answers without the database (no hash-list matcher attached) until anything changes.


def _run(settings: Settings, name: str | None = None) -> tuple[bool, str]:
    """(whether the run opened the database, the policy's version)."""
    engine, policy = moderation_engine(settings, name)
    engine.close()
    return engine.known is not None, policy.version


def test_a_second_run_answers_from_the_snapshot(tmp_path: Path, policy_dir: Path) -> None:
    settings = _settings(tmp_path, policy_dir)
    assert _run(settings) == (True, "1")
    snapshot = settings.data_dir / one_shot_snapshot.FILE_NAME
    assert snapshot.stat().st_mode & 0o777 == 0o600
    assert _run(settings) == (False, "1")
    assert _run(settings, "block-all") == (True, "1")  # another policy: read, then kept too
    assert _run(settings, "block-all") == (False, "1")
    assert _run(settings) == (False, "1")
    with pytest.raises(PolicyNotFound):
        moderation_engine(settings, "no-such-policy")
    with pytest.raises(InvalidParameter, match="VIGIL_HASHLIST_REJECTED_ACTION"):
        moderation_engine(_settings(tmp_path, policy_dir, hashlist_rejected_action="allow"))


def test_a_commit_by_another_process_is_seen(tmp_path: Path, policy_dir: Path) -> None:
    settings = _settings(tmp_path, policy_dir)
    _run(settings)
    db = Database(settings.resolved_database_url)
    try:
        policies = PolicyRepository(db)
        text = "name: default\ncategories:\n  Explicit: {review: 10, block: 20}\n"
        policies.submit(text, "admin")
        assert _run(settings) == (True, "2")
        assert _run(settings) == (False, "2")
        policies.activate("default", 1, "admin")  # only the pointer moves
        assert _run(settings) == (True, "1")
    finally:
        db.dispose()


def test_a_changed_policy_file_is_imported(tmp_path: Path, policy_dir: Path) -> None:
    mine = tmp_path / "policies"
    shutil.copytree(policy_dir, mine)
    settings = _settings(tmp_path, mine)
    assert _run(settings, "block-all") == (True, "1")
    path = mine / "block-all.yaml"
    path.write_text(path.read_text() + "\n# edited\n")
    assert _run(settings, "block-all") == (True, "2")
    assert _run(settings, "block-all") == (False, "2")


def test_hash_list_items_keep_the_database_open(tmp_path: Path, policy_dir: Path) -> None:
    settings = _settings(tmp_path, policy_dir)
    _run(settings)
    db = Database(settings.resolved_database_url)
    try:
        rules = MatchRules(refresh_seconds=0)
        lists = HashListService(db, rules, HashMatcher(db, rules), lambda data: NotImplemented)
        lists.create(ADMIN, "known", "block")
        lists.add_hashes(ADMIN, "known", ["ab" * 32])
    finally:
        db.dispose()
    assert _run(settings) == (True, "1")
    assert _run(settings) == (True, "1")  # every run: matching needs the database
    off = _settings(tmp_path, policy_dir, hashlists_enabled=False)
    _run(off)
    assert moderation_engine(off)[1].version == "1"  # lists off: the items do not matter


def test_only_the_embedded_database_is_snapshotted(tmp_path: Path, policy_dir: Path) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    settings = _settings(tmp_path, policy_dir, database_url=elsewhere)
    assert _run(settings) == (True, "1")
    assert _run(settings) == (True, "1")
    assert not (settings.data_dir / one_shot_snapshot.FILE_NAME).exists()


def test_a_damaged_snapshot_is_read_again(tmp_path: Path, policy_dir: Path) -> None:
    settings = _settings(tmp_path, policy_dir)
    _run(settings)
    snapshot = settings.data_dir / one_shot_snapshot.FILE_NAME
    for damage in ("{not json", "[1, 2]", json.dumps({"fingerprint": None})):
        snapshot.write_text(damage)
        assert _run(settings) == (True, "1")
        assert _run(settings) == (False, "1")
    kept = json.loads(snapshot.read_text())
    kept["policies"]["default"] = {"number": "one"}
    snapshot.write_text(json.dumps(kept))
    assert _run(settings) == (True, "1")


def test_a_snapshot_that_cannot_be_written_is_skipped(tmp_path: Path, policy_dir: Path) -> None:
    """The snapshot is only a shortcut: where its file cannot be written (here a folder stands
    in its place), the command still answers, from the database each time."""
    settings = _settings(tmp_path, policy_dir)
    _run(settings)
    snapshot = settings.data_dir / one_shot_snapshot.FILE_NAME
    snapshot.unlink()
    snapshot.mkdir()
    assert _run(settings) == (True, "1")
    assert _run(settings) == (True, "1")
    assert [p.name for p in settings.data_dir.iterdir() if p.name.startswith(".")] == []
