"""`vigil moderate` as a real process: native libraries' start-up lines stay off stderr unless
``--verbose``, which adds the engine's timings; a one-shot command loads only the detectors its
policy needs (issue 17, docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import run_process
from tests.images import coffee_jpeg
from vigil.detectors.native_stderr import NOISE
from vigil.policy.loader import PolicyStore, parse_policy
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings

# The default set with gesture (MediaPipe, the source of the lines) and nothing slow besides.
ENV = {"VIGIL_DETECTORS": "nsfw,gesture"}


def _noise(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if NOISE.match(line.encode())]


def test_start_up_lines_are_held_back_without_verbose(tmp_path: Path) -> None:
    (tmp_path / "coffee.jpg").write_bytes(coffee_jpeg())
    quiet = run_process("moderate", "coffee.jpg", cwd=tmp_path, env=ENV)
    assert quiet.returncode == 0, quiet.stderr
    assert _noise(quiet.stderr) == []
    assert "engine:" not in quiet.stderr


def test_verbose_shows_them_and_the_engines_timings(tmp_path: Path) -> None:
    (tmp_path / "coffee.jpg").write_bytes(coffee_jpeg())
    loud = run_process("--verbose", "moderate", "coffee.jpg", cwd=tmp_path, env=ENV)
    assert loud.returncode == 0, loud.stderr
    assert _noise(loud.stderr)  # MediaPipe still says what it always said
    for phase in ("built 2 detectors", "loaded 2 detectors", "moderated coffee.jpg"):
        assert f"engine: {phase} in " in loud.stderr


def test_a_policy_that_never_asks_for_gestures_leaves_the_gesture_detector_unloaded() -> None:
    engine = ModerationEngine(Settings(detectors=["nsfw", "gesture"]))
    explicit_only = parse_policy("name: explicit-only\ncategories:\n  Explicit: {block: 90}\n")
    engine.load([explicit_only])
    assert [d.name for d in engine.detectors] == ["nsfw"]
    everything = ModerationEngine(Settings(detectors=["nsfw", "gesture"]))
    everything.load([PolicyStore().get("strict")])
    assert [d.name for d in everything.detectors] == ["nsfw", "gesture"]
