"""VIGIL_EXECUTION_PROVIDERS (docs/gpu.md): parsed, checked against the installed onnxruntime at
start-up, handed to every session, and fp32 models off the CPU.

Run with the real onnxruntime. This machine has no GPU: CUDA stands for a provider that is not
available, and onnxruntime's Azure provider (in every CPU build) for one that is and is not the
CPU's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from tests.cli_runner import run
from vigil.detectors import providers
from vigil.detectors.nsfw import NsfwDetector
from vigil.detectors.onnx import create_session
from vigil.detectors.quantize import check_precision, precision_for
from vigil.detectors.text import engine_providers
from vigil.errors import ProviderUnavailable
from vigil.service.engine.moderation import ModerationEngine
from vigil.settings import Settings, load_settings

CPU, CUDA = "CPUExecutionProvider", "CUDAExecutionProvider"
OTHER = "AzureExecutionProvider"  # available in onnxruntime's CPU build, not the CPU provider
no_cuda = pytest.mark.skipif(CUDA in ort.get_available_providers(), reason="CUDA is available")


@pytest.fixture(autouse=True)
def back_to_cpu() -> Iterator[None]:
    """The providers are process-wide: every test leaves them as it found them."""
    yield
    providers.use(["cpu"])


def doubling_model() -> bytes:
    """A one-node graph, y = x + x."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])
    graph = helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"])], "double", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    data: bytes = model.SerializeToString()
    return data


def test_the_setting_takes_short_and_full_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_EXECUTION_PROVIDERS", "cuda, CPUExecutionProvider")
    assert load_settings().execution_providers == ["cuda", "CPUExecutionProvider"]
    assert Settings().execution_providers == ["cuda", "CPUExecutionProvider"]
    monkeypatch.delenv("VIGIL_EXECUTION_PROVIDERS")
    assert Settings().execution_providers == ["cpu"]
    names = ["cuda", "TensorRT", "rocm", "openvino", "dml", "coreml", "cpu"]
    assert [providers.full_name(name) for name in names] == [
        CUDA,
        "TensorrtExecutionProvider",
        "ROCMExecutionProvider",
        "OpenVINOExecutionProvider",
        "DmlExecutionProvider",
        "CoreMLExecutionProvider",
        CPU,
    ]
    assert providers.full_name("CUDAExecutionProvider") == CUDA
    assert providers.full_name("cudaexecutionprovider") == CUDA


def test_cpu_is_always_last() -> None:
    available = [CUDA, CPU]
    assert providers.resolve(["cuda"], available) == (CUDA, CPU)
    assert providers.resolve(["cpu", "cuda", "cuda"], available) == (CUDA, CPU)
    assert providers.resolve([], available) == (CPU,)


def test_cpu_runs() -> None:
    assert providers.use(["cpu"]) == (CPU,)
    session = create_session(doubling_model(), 1)
    assert session.get_providers() == [CPU]
    batch = np.array([[1.0, 2.0]], dtype=np.float32)
    assert session.run(None, {"x": batch})[0].tolist() == [[2.0, 4.0]]


def test_every_session_gets_the_providers_asked_for() -> None:
    assert providers.use([OTHER]) == (OTHER, CPU)
    session = create_session(doubling_model(), 1)
    assert session.get_providers() == [OTHER, CPU]
    assert session.run(None, {"x": np.ones((1, 2), np.float32)})[0].tolist() == [[2.0, 2.0]]


@no_cuda
def test_an_unavailable_provider_is_refused_with_what_is_available() -> None:
    with pytest.raises(ProviderUnavailable) as refused:
        providers.use(["cuda", "cpu"])
    assert refused.value.code == "ProviderUnavailable"
    message = refused.value.message
    assert "CUDAExecutionProvider is not available in the installed onnxruntime" in message
    assert f"Available: {', '.join(ort.get_available_providers())}" in message
    assert "make install GPU=1" in message
    assert providers.active() == (CPU,)  # nothing changed


@no_cuda
def test_start_up_stops_before_any_detector_is_built() -> None:
    with pytest.raises(ProviderUnavailable):
        ModerationEngine(Settings(execution_providers=["cuda"], detectors=["nsfw"]))


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(ProviderUnavailable, match="'cdua' is not an execution provider"):
        providers.use(["cdua"])


def test_off_the_cpu_the_precision_is_fp32() -> None:
    assert precision_for("int8", (CUDA, CPU)) == "fp32"
    assert precision_for("int8", ("TensorrtExecutionProvider", CUDA, CPU)) == "fp32"
    assert precision_for("int8", (CPU,)) == "int8"
    assert precision_for("fp32", (CPU,)) == "fp32"


def test_detectors_take_their_precision_from_the_providers() -> None:
    assert NsfwDetector().version.endswith("+int8")  # int8 by default on the CPU
    providers.use([OTHER])
    assert check_precision("int8", "nsfw") == "fp32"
    assert NsfwDetector().version == NsfwDetector(precision="fp32").version
    assert not NsfwDetector().version.endswith("+int8")


def test_rapidocr_is_switched_to_the_providers_it_knows() -> None:
    prefix = "EngineConfig.onnxruntime."
    on_cuda = engine_providers((CUDA, CPU))
    assert on_cuda[prefix + "use_cuda"] is True
    assert not any(value for key, value in on_cuda.items() if key != prefix + "use_cuda")
    assert not any(engine_providers((CPU,)).values())


def test_the_report_names_the_builds_and_what_a_session_gets() -> None:
    found = providers.report(["cpu"])
    assert found["distributions"] == providers.distributions()
    assert ort.__version__ in found["distributions"].values()
    assert found["session"] == [CPU] and found["problems"] == []


def test_two_builds_installed_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    both = {"onnxruntime": ort.__version__, "onnxruntime-gpu": ort.__version__}
    monkeypatch.setattr(providers, "distributions", lambda: both)
    assert "more than one onnxruntime build" in providers.report(["cpu"])["problems"][0]


@no_cuda
def test_the_check_command_warns_and_fails_on_an_unavailable_provider(tmp_path: Path) -> None:
    ok = run("detectors", "--providers", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "CPUExecutionProvider" in ok.stdout
    refused = run(
        "detectors", "--providers", cwd=tmp_path, env={"VIGIL_EXECUTION_PROVIDERS": "cuda"}
    )
    assert refused.returncode == 1
    assert "CUDAExecutionProvider is not available" in refused.stderr
