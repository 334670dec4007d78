"""`vigil models pull`: a bundle from a real local HTTP server, checked against pinned sha256s;
no internet, a closed port and wrong bytes each a clear refusal that leaves nothing behind."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.detectors.tiny_clip import GREY, write_bundle
from tests.servers import loopback_http
from vigil.cli.main import app
from vigil.detectors.clip import ClipDetector
from vigil.errors import InvalidParameter, ModelChecksumMismatch, ModelDownloadFailed
from vigil.service.engine import model_pull
from vigil.service.engine.model_pull import ModelFile, ModelSource, installed, pull

# A closed port on this machine: what no route to the host looks like, without leaving it.
UNREACHABLE = "http://127.0.0.1:9/onnx/vision_model.onnx"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server over a folder holding a tiny bundle: (base URL, folder)."""
    folder = write_bundle(tmp_path / "published")
    with loopback_http(functools.partial(_Quiet, directory=str(folder))) as url:
        yield url, folder


def bundle(base: str, folder: Path, name: str = "tiny") -> dict[str, ModelSource]:
    files = tuple(
        ModelFile(p.name, f"{base}/{p.name}", hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(folder.iterdir())
    )
    return {name: ModelSource(name, "tiny test bundle", "MIT", files)}


def test_pull_installs_a_bundle_the_detector_loads(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    models_dir = tmp_path / "models"
    folder = pull("tiny", models_dir, timeout=5, registry=bundle(*served))
    assert folder == models_dir / "tiny" and installed(models_dir) == ["tiny"]
    clip = ClipDetector(model="tiny", models_dir=str(models_dir), neutral_prompts=[GREY])
    clip.load()


def test_wrong_bytes_are_a_checksum_mismatch(served: tuple[str, Path], tmp_path: Path) -> None:
    registry = bundle(*served)
    (served[1] / "image.onnx").write_bytes(b"not the published model")
    with pytest.raises(ModelChecksumMismatch, match=r"image\.onnx has sha256"):
        pull("tiny", tmp_path / "models", timeout=5, registry=registry)
    assert list((tmp_path / "models").iterdir()) == []


def test_a_missing_file_is_a_download_failure(served: tuple[str, Path], tmp_path: Path) -> None:
    registry = bundle(*served)
    (served[1] / "prompts.json").unlink()
    with pytest.raises(ModelDownloadFailed, match=r"prompts\.json"):
        pull("tiny", tmp_path / "models", timeout=5, registry=registry)


@pytest.mark.timeout(60)
def test_no_internet_is_a_clear_refusal(tmp_path: Path) -> None:
    file = ModelFile("image.onnx", UNREACHABLE, "0" * 64)
    registry = {"hub": ModelSource("hub", "", "", (file,))}
    with pytest.raises(ModelDownloadFailed, match="needs internet access"):
        pull("hub", tmp_path / "models", timeout=5, registry=registry)
    assert list((tmp_path / "models").iterdir()) == []


def test_unknown_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="Unknown model 'nope'"):
        pull("nope", tmp_path, registry={})


@pytest.mark.timeout(60)
def test_cli_pull_prints_the_code_and_list_shows_installed(
    served: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_MODELS_DIR", str(tmp_path / "models"))
    unreachable = ModelFile("image.onnx", UNREACHABLE, "0" * 64)
    broken = {"hub": ModelSource("hub", "", "", (unreachable,))}
    monkeypatch.setattr(model_pull, "REGISTRY", {**bundle(*served), **broken})
    runner = CliRunner()
    failed = runner.invoke(app, ["models", "pull", "hub", "--timeout", "5"])
    assert failed.exit_code == 2 and "ModelDownloadFailed" in failed.output
    done = runner.invoke(app, ["models", "pull", "tiny"])
    assert done.exit_code == 0, done.output
    listed = runner.invoke(app, ["models", "list"])
    assert "tiny\tinstalled" in listed.output and "vigil models pull hub" in listed.output
