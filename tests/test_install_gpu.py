"""scripts/install_gpu.py (`make install GPU=1`) ends with one onnxruntime: the GPU build.

The real wheels are hundreds of MB, so the end-to-end test runs the script, and pip, against a
throwaway environment and small stand-in wheels built here: ``onnxruntime`` and
``onnxruntime-gpu`` that both write the ``onnxruntime`` module (as the real ones do), and a
package that depends on ``onnxruntime`` (as nudenet does). pip reads them from a local folder
(``--no-index``), so the test needs no network.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install_gpu.py"
VERSION = "9.9.9"
WHEEL = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("install_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


install_gpu = _script()


def test_the_plan_uninstalls_every_build_then_reinstalls_the_gpu_one() -> None:
    both = {"onnxruntime": "1.32.0", "onnxruntime-gpu": "1.32.0"}
    assert install_gpu.plan(both, "1.32.0") == [
        ["uninstall", "--yes", "onnxruntime", "onnxruntime-gpu"],
        ["install", "--force-reinstall", "--no-deps", "onnxruntime-gpu==1.32.0"],
    ]
    assert install_gpu.plan({"onnxruntime": "1.32.0"}, "1.32.0")[0] == [
        "uninstall",
        "--yes",
        "onnxruntime",
    ]
    assert install_gpu.plan({"onnxruntime-gpu": "1.32.0"}, "1.32.0") == []
    # A GPU build at another version is replaced too.
    assert install_gpu.plan({"onnxruntime-gpu": "1.31.1"}, "1.32.0")[0][2:] == ["onnxruntime-gpu"]


def test_the_version_is_the_cpu_builds_unless_one_is_asked_for() -> None:
    both = {"onnxruntime": "1.32.0", "onnxruntime-gpu": "1.31.1"}
    assert install_gpu.target_version(both, None) == "1.32.0"
    assert install_gpu.target_version(both, "1.31.1") == "1.31.1"
    assert install_gpu.target_version({"onnxruntime-gpu": "1.31.1"}, None) == "1.31.1"
    assert install_gpu.target_version({}, None) is None


def test_a_cpu_version_without_a_gpu_build_falls_back_to_the_newest_older_one() -> None:
    offered = ["1.31.1", "1.30.0", "1.22.0"]
    assert install_gpu.newest_before(offered, "1.32.0") == "1.31.1"
    assert install_gpu.newest_before(offered, "1.22.0") is None


def _wheel(folder: Path, name: str, files: dict[str, str], requires: tuple[str, ...] = ()) -> None:
    """A minimal wheel of distribution ``name`` at VERSION holding ``files``."""
    stem = f"{name.replace('-', '_')}-{VERSION}"
    info = f"{stem}.dist-info"
    metadata = "\n".join(
        ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {VERSION}"]
        + [f"Requires-Dist: {requirement}" for requirement in requires]
    )
    contents = {
        **files,
        f"{info}/METADATA": metadata + "\n",
        f"{info}/WHEEL": WHEEL,
        f"{info}/top_level.txt": "".join(f"{path.split('/')[0]}\n" for path in files),
    }
    record = [
        f"{path},sha256={_digest(text)},{len(text.encode())}" for path, text in contents.items()
    ]
    contents[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    with zipfile.ZipFile(folder / f"{stem}-py3-none-any.whl", "w") as archive:
        for path, text in contents.items():
            archive.writestr(path, text)


def _digest(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()


def _module(providers: list[str]) -> dict[str, str]:
    code = (
        f"__version__ = {VERSION!r}\n\ndef get_available_providers():\n    return {providers!r}\n"
    )
    return {"onnxruntime/__init__.py": code}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    _wheel(folder, "onnxruntime", _module(["CPUExecutionProvider"]))
    _wheel(folder, "onnxruntime-gpu", _module(["CUDAExecutionProvider", "CPUExecutionProvider"]))
    _wheel(folder, "needs-ort", {"needs_ort/__init__.py": ""}, requires=("onnxruntime",))
    return folder


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _pip(python: str, wheels: Path, *args: str) -> None:
    done = _run(python, "-m", "pip", *args, "--quiet", "--no-index", "--find-links", str(wheels))
    assert done.returncode == 0, done.stderr


def _providers(python: str) -> str:
    return _run(
        python, "-c", "import onnxruntime; print(onnxruntime.get_available_providers())"
    ).stdout


@pytest.mark.timeout(180)
def test_both_builds_installed_end_as_the_gpu_one_alone(tmp_path: Path, wheels: Path) -> None:
    venv.create(tmp_path / "env", with_pip=True)  # pip from the interpreter's bundled wheel
    python = str(tmp_path / "env" / "bin" / "python")
    # As after `pip install vigil` (which pulls onnxruntime in) and onnxruntime-gpu on top.
    _pip(python, wheels, "install", "needs-ort")
    _pip(python, wheels, "install", f"onnxruntime-gpu=={VERSION}")
    assert install_gpu.builds(python) == {"onnxruntime": VERSION, "onnxruntime-gpu": VERSION}
    local = ["--pip-arg=--no-index", f"--pip-arg=--find-links={wheels}", f"--python={python}"]

    dry = _run(sys.executable, str(SCRIPT), *local, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would run: pip uninstall --yes onnxruntime onnxruntime-gpu" in dry.stdout
    assert len(install_gpu.builds(python)) == 2  # nothing changed

    missing = _run(sys.executable, str(SCRIPT), *local, "--version", "9.9.8")
    assert missing.returncode == 1
    assert "onnxruntime-gpu==9.9.8 is not on the index" in missing.stderr
    assert f"versions there: {VERSION}" in missing.stderr
    assert len(install_gpu.builds(python)) == 2

    done = _run(sys.executable, str(SCRIPT), *local)
    assert done.returncode == 0, done.stderr
    assert install_gpu.builds(python) == {"onnxruntime-gpu": VERSION}
    assert "CUDAExecutionProvider" in _providers(python)  # the module's files are the GPU build's
    assert _run(python, "-c", "import needs_ort").returncode == 0  # its dependent stays

    again = _run(sys.executable, str(SCRIPT), *local)
    assert again.returncode == 0 and "running" not in again.stdout
