"""Which onnxruntime execution providers every session vigil creates runs on
(``VIGIL_EXECUTION_PROVIDERS``, docs/gpu.md).

The choice is process-wide: ``use`` checks the setting against the installed onnxruntime once,
at start-up, before any detector is built, and ``active`` is what ``create_session`` hands
onnxruntime afterwards. Threading the list through every detector, backbone and text tower
instead would change every constructor for a value that never differs within a process.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from typing import Any

import onnxruntime as ort

from vigil.errors import ProviderUnavailable

CPU = "CPUExecutionProvider"
# Short names the setting takes, besides onnxruntime's own (``CUDAExecutionProvider``).
SHORT_NAMES = {
    "cpu": CPU,
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "dml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}
# The module every onnxruntime build installs; onnxruntime and onnxruntime-gpu both write it.
MODULE = "onnxruntime"
INSTALL_HINT = (
    "install onnxruntime's GPU build in place of the CPU one with `make install GPU=1` "
    "(scripts/install_gpu.py; docs/gpu.md)"
)

_active: tuple[str, ...] = (CPU,)


def full_name(name: str) -> str:
    """onnxruntime's name for a short (``cuda``) or full (``CUDAExecutionProvider``) name, in
    any case; a name that is neither comes back as written, to be refused by ``resolve``."""
    wanted = name.strip()
    if wanted.lower() in SHORT_NAMES:
        return SHORT_NAMES[wanted.lower()]
    # onnxruntime's names are case-sensitive; people write cudaexecutionprovider too.
    names: list[str] = [*ort.get_all_providers(), *SHORT_NAMES.values()]
    return {provider.lower(): provider for provider in names}.get(wanted.lower(), wanted)


def resolve(requested: Sequence[str], available: Sequence[str]) -> tuple[str, ...]:
    """The providers to hand onnxruntime, in order, CPU last as the fallback for the nodes
    and models the others cannot run; ``ProviderUnavailable`` names any that ``available``
    (this onnxruntime's) lacks."""
    chosen: list[str] = []
    for name in requested:
        provider = full_name(name)
        if provider not in available:
            raise ProviderUnavailable(_unavailable_message(name, provider, available))
        if provider not in chosen:
            chosen.append(provider)
    if CPU in chosen:
        chosen.remove(CPU)  # always last: a provider listed after it would never be tried
    return (*chosen, CPU)


def _unavailable_message(name: str, provider: str, available: Sequence[str]) -> str:
    builds = ", ".join(f"{dist}=={version}" for dist, version in distributions().items())
    if provider not in ort.get_all_providers() and provider not in SHORT_NAMES.values():
        short = ", ".join(SHORT_NAMES)
        what = (
            f"{name!r} is not an execution provider onnxruntime knows; use one of {short}, or "
            "onnxruntime's own name (CUDAExecutionProvider)"
        )
    else:
        what = f"{provider} is not available in the installed onnxruntime ({builds or 'none'})"
    return (
        f"VIGIL_EXECUTION_PROVIDERS: {what}. Available: {', '.join(available)}. For CUDA, "
        f"{INSTALL_HINT}; or leave the setting at cpu."
    )


def use(requested: Sequence[str]) -> tuple[str, ...]:
    """Check ``requested`` against this onnxruntime and make it the providers of every session
    created from now on (``ProviderUnavailable`` changes nothing)."""
    global _active
    _active = resolve(requested, ort.get_available_providers())
    return _active


def active() -> tuple[str, ...]:
    """The providers sessions are created with: CPU alone until ``use`` says otherwise."""
    return _active


def accelerated(providers: Sequence[str] | None = None) -> bool:
    """Whether a provider other than the CPU one is asked for (``active`` by default)."""
    return any(provider != CPU for provider in (active() if providers is None else providers))


def distributions() -> dict[str, str]:
    """Every installed distribution that provides the ``onnxruntime`` module, with its version.
    More than one means they overwrote each other's files (docs/gpu.md)."""
    names = importlib.metadata.packages_distributions().get(MODULE, [])
    return {name: importlib.metadata.version(name) for name in sorted(set(names))}


def report(requested: Sequence[str]) -> dict[str, Any]:
    """What `vigil detectors --providers` prints: the onnxruntime builds installed, the
    providers they offer, the setting's, and which ones a session really gets."""
    found = distributions()
    problems: list[str] = []
    if len(found) > 1:
        problems.append(
            f"more than one onnxruntime build is installed ({', '.join(found)}): they share one "
            f"module and the last installed wins; {INSTALL_HINT}"
        )
    chosen: list[str] = []
    session: list[str] = []
    try:
        chosen = list(resolve(requested, ort.get_available_providers()))
        session = session_providers(chosen)
    except ProviderUnavailable as exc:
        problems.append(exc.message)
    except Exception as exc:  # onnxruntime's errors have no useful common base class
        problems.append(f"a session on {', '.join(chosen)} could not be created: {exc}")
    if session and session[:1] != chosen[:1]:
        # onnxruntime-gpu lists CUDA even when libcudart or cuDNN is missing, then quietly
        # runs the session on the CPU; only a session shows it.
        problems.append(
            f"a session asked for {chosen[0]} but got {', '.join(session)}: the provider's "
            "libraries did not load (onnxruntime logs why; docs/gpu.md#checking)"
        )
    return {
        "distributions": found,
        "onnxruntime": ort.__version__,
        "device": ort.get_device(),
        "available": ort.get_available_providers(),
        "requested": list(requested),
        "providers": chosen,
        "session": session,
        "problems": problems,
    }


def session_providers(providers: Sequence[str]) -> list[str]:
    """The providers onnxruntime gives a one-node model asked to run on ``providers``."""
    from onnx import TensorProto, helper

    tensor = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    doubled = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"])], "probe", [tensor], [doubled]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # readable by every onnxruntime vigil supports
    # onnxruntime's own log says why a provider did not load: left at its default level.
    session = ort.InferenceSession(model.SerializeToString(), providers=list(providers))
    return list(session.get_providers())
