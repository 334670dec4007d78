"""Detectors as plugins: discovery through entry points, per-detector options, and a plugin
that fails to load being reported while the others serve."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import running_vigil
from tests.detectors.plugins import install_plugins
from tests.images import coffee_jpeg
from vigil.api.app import create_app
from vigil.detectors.registry import BUILTIN, GROUP, discover, prepare
from vigil.errors import DetectorFailed
from vigil.policy.loader import PolicyStore
from vigil.service.engine.detectors import list_detectors
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings

DEFAULT = PolicyStore().get("default")


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(install_plugins(tmp_path)))
    yield


def test_builtins_are_registered_as_entry_points() -> None:
    found = discover()
    assert set(BUILTIN) <= set(found)
    assert found["nsfw"].value == "vigil.detectors.nsfw:NsfwDetector"
    assert {found[name].group for name in BUILTIN} == {GROUP}
    assert found["nudity"].dist is not None and found["nudity"].dist.name == "vigil"


def test_an_installed_plugin_is_discovered_and_listed(plugins: None) -> None:
    assert {"broken", "echo"} <= set(discover())
    listed = {info.name: info for info in list_detectors(Settings())}
    echo = listed["echo"]
    assert (echo.version, echo.labels, echo.licence) == ("echo==1.0", ("Gambling",), "MIT")
    assert not echo.enabled and echo.state == "not loaded"
    assert listed["nudity"].enabled and listed["nudity"].licence.startswith("AGPL-3.0")
    assert listed["nsfw"].labels == ("Explicit",)


def test_listing_with_load_reports_the_failure(plugins: None) -> None:
    settings = Settings(detectors=["echo", "broken", "psychic"])
    listed = {info.name: info for info in list_detectors(settings, load=True)}
    assert listed["echo"].state == "loaded"
    assert listed["broken"].state == "failed"
    assert "missing-weights.onnx" in (listed["broken"].error or "")
    assert listed["psychic"].state == "failed" and listed["psychic"].enabled


def test_a_failing_detector_is_left_out_and_the_others_serve(plugins: None) -> None:
    settings = Settings(
        detectors=["nsfw", "broken", "echo"], detector_options={"echo": {"confidence": 77.0}}
    )
    engine = ModerationEngine(settings)
    engine.load()
    assert engine.ready
    assert [detector.name for detector in engine.detectors] == ["nsfw", "echo"]
    (error,) = engine.failures.values()
    assert error.startswith("Detector 'broken' failed to load: FileNotFoundError")
    assert "missing-weights.onnx" in error
    result = engine.moderate(coffee_jpeg(), DEFAULT)
    found = {(d.detector, d.label) for d in result.detections}
    assert found == {("nsfw", "Explicit"), ("echo", "Gambling")}
    assert [d.confidence for d in result.detections if d.detector == "echo"] == [77.0]
    assert "broken" not in result.model_version


def test_when_every_detector_fails_loading_fails(plugins: None) -> None:
    engine = ModerationEngine(Settings(detectors=["broken"]))
    with pytest.raises(DetectorFailed, match="No detector could be loaded: Detector 'broken'"):
        engine.load()
    assert not engine.ready


def test_options_a_detector_does_not_take_fail_that_detector_only(plugins: None) -> None:
    slots = prepare(["echo", "nsfw"], 0, {"echo": {"colour": "red"}})
    assert [slot.state for slot in slots] == ["failed", "pending"]
    assert "Detector 'echo' could not be created with options {'colour': 'red'}" in (
        slots[0].error or ""
    )


def test_readyz_reports_each_detector(plugins: None, tmp_path: Path, policy_dir: Path) -> None:
    engine = ModerationEngine(Settings(detectors=["echo", "broken"]))
    engine.load()
    with (
        running_vigil(tmp_path, engine, policy_dir) as vigil,
        TestClient(create_app(vigil, run_worker=False)) as client,
    ):
        response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    echo, broken = body["detectors"]
    assert echo == {"name": "echo", "version": "echo==1.0", "state": "loaded"}
    assert broken["state"] == "failed" and "missing-weights.onnx" in broken["error"]


def test_readyz_is_503_when_no_detector_loads(
    plugins: None, tmp_path: Path, policy_dir: Path
) -> None:
    engine = ModerationEngine(Settings(detectors=["broken"]))
    with (
        running_vigil(tmp_path, engine, policy_dir) as vigil,
        TestClient(create_app(vigil, run_worker=False)) as client,
    ):
        response = client.get("/readyz")
        for _ in range(100):  # models load in a background thread
            if "failed" in response.text:
                break
            time.sleep(0.05)
            response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "NotReady"
    assert "No detector could be loaded" in body["error"]["message"]
    assert body["detectors"][0]["state"] == "failed"
