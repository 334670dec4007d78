"""`vigil --help` stays fast: importing the CLI loads no heavy module (issue 17, docs/speed.md)."""

from __future__ import annotations

import ast
import subprocess
import sys

HEAVY = ("onnx", "onnxruntime", "mediapipe", "av", "boto3", "ray", "pyarrow")


def test_importing_the_cli_loads_no_heavy_module() -> None:
    code = f"import vigil.cli.main, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert ast.literal_eval(done.stdout.strip()) == []


def test_defaults_written_out_in_the_cli_match_their_sources() -> None:
    """The CLI (and the adapters service) spell out two defaults so as not to import onnx and
    the clip stack."""
    from vigil.cli import adapters, models
    from vigil.detectors.embedding import DEFAULT_BACKBONE
    from vigil.service.engine import adapters as adapter_service
    from vigil.service.engine.model_hub import PREPROCESSOR

    assert adapters.DEFAULT_BACKBONE == DEFAULT_BACKBONE
    assert adapter_service.DEFAULT_BACKBONE == DEFAULT_BACKBONE
    assert models.PREPROCESSOR == PREPROCESSOR
