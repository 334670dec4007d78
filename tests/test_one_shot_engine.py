"""``moderation_engine``: what `vigil moderate` and `vigil scan` build instead of the whole app
object (issue 17): the database prepared, the policy, its detectors loaded and the hash lists
attached as ``build`` attaches them."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.app import moderation_engine
from vigil.errors import InvalidParameter, PolicyNotFound
from vigil.settings import Settings


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
