"""On-demand detectors run only for uploads whose policy acts on their labels."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from skimage import data

from vigil.policy.loader import PolicyStore, parse_policy
from vigil.policy.model import Policy
from vigil.service.engine.detector_demand import acted_on, needed
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings

GESTURES_OFF = """
name: no-gestures
categories:
  Explicit: {review: 50, block: 85}
  Rude Gestures: ignore
"""
ONLY_MIDDLE_FINGER = """
name: middle-finger
categories:
  Middle Finger: {review: 40}
"""
TRIGGER_ONLY = """
name: trigger
review_triggers:
  - {label: Rude Gestures, min: 30, max: 100}
"""
IN_A_RULE = """
name: rule
context:
  audience: adult
categories:
  Explicit: {review: 50}
rules:
  - name: minors
    when: {audience: [under_13]}
    categories:
      Rude Gestures: {review: 40}
"""


@pytest.fixture(scope="module")
def engine() -> ModerationEngine:
    built = ModerationEngine(Settings(detectors=["nsfw", "gesture"]))
    built.load()
    return built


def policy(text: str) -> Policy:
    return parse_policy(text)


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG")
    return buffer.getvalue()


def test_acted_on_names_bands_rules_and_triggers_but_not_ignored() -> None:
    assert "Rude Gestures" not in acted_on(policy(GESTURES_OFF))
    assert "Explicit" in acted_on(policy(GESTURES_OFF))
    assert acted_on(policy(TRIGGER_ONLY)) == {"Rude Gestures"}
    assert "Rude Gestures" in acted_on(policy(IN_A_RULE))


def test_on_demand_detector_needed_only_where_a_policy_acts_on_its_labels(
    engine: ModerationEngine,
) -> None:
    gesture = next(d for d in engine.detectors if d.name == "gesture")
    nsfw = next(d for d in engine.detectors if d.name == "nsfw")
    assert needed(gesture, [PolicyStore().get("default")])  # Rude Gestures: review 70
    assert needed(gesture, [policy(ONLY_MIDDLE_FINGER)])  # a child label counts
    assert needed(gesture, [policy(TRIGGER_ONLY)])
    assert needed(gesture, [policy(IN_A_RULE)])
    assert not needed(gesture, [policy(GESTURES_OFF)])
    assert needed(gesture, [policy(GESTURES_OFF), policy(TRIGGER_ONLY)])  # a shadow needs it
    assert needed(nsfw, [policy(GESTURES_OFF)])  # not on demand: always


def test_engine_runs_and_names_only_the_chosen_detectors(engine: ModerationEngine) -> None:
    off, on = policy(GESTURES_OFF), PolicyStore().get("default")
    assert engine.chosen(off) == {"nsfw"}
    assert engine.chosen(on) == {"nsfw", "gesture"}
    (skipped,) = engine.moderate_batch([photo()], off)
    (ran,) = engine.moderate_batch([photo()], on)
    assert not isinstance(skipped, Exception) and not isinstance(ran, Exception)
    assert "gesture@" not in skipped.model_version and "nsfw@" in skipped.model_version
    assert "gesture@" in ran.model_version
    assert ran.model_version == engine.model_version


def test_detect_gives_each_detector_only_its_images(engine: ModerationEngine) -> None:
    image = engine.decode(photo())
    calls: list[int] = []
    gesture = next(d for d in engine.detectors if d.name == "gesture")
    original = gesture.detect

    def counting(images):  # type: ignore[no-untyped-def]
        calls.append(len(images))
        return original(images)

    gesture.detect = counting  # type: ignore[method-assign]
    try:
        just_nsfw, both = frozenset({"nsfw"}), frozenset({"nsfw", "gesture"})
        found = engine.detect([image, image, image], chosen=[just_nsfw, both, just_nsfw])
    finally:
        del gesture.detect
    assert calls == [1]
    assert len(found) == 3 and all(any(d.detector == "nsfw" for d in f) for f in found)
