"""`vigil --help` stays fast: importing the CLI loads no heavy module (issue 17, docs/speed.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

# rich and prometheus_client too: `vigil moderate` prints JSON and serves no metrics.
HEAVY = (
    "onnx",
    "onnxruntime",
    "mediapipe",
    "av",
    "boto3",
    "ray",
    "pyarrow",
    "rich",
    "prometheus_client",
)


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


# What `vigil moderate` leaves out of its process: rich prints only tables and refusals, and
# a one-shot engine records no metrics (docs/speed.md, "CLI start-up").
ONE_SHOT_UNUSED = ("rich", "prometheus_client")

ONE_SHOT = """
import io, sys
from pathlib import Path
from PIL import Image
import vigil.cli.main
from vigil.app import moderation_engine
from vigil.settings import Settings
tmp, policies = Path(sys.argv[1]), Path(sys.argv[2])
settings = Settings(data_dir=tmp / "data", policy_dir=policies, detectors=["nsfw"])
engine, policy = moderation_engine(settings)
photo = io.BytesIO()
Image.new("RGB", (160, 120), "gray").save(photo, format="JPEG")
engine.moderate(photo.getvalue(), policy)
engine.close()
print(sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[3:])))
"""


def test_a_one_shot_engine_moderates_without_rich_or_prometheus(
    tmp_path: Path, policy_dir: Path
) -> None:
    """The second run answers from the policy snapshot the first one stored: without
    SQLAlchemy either (vigil/service/policies/one_shot_snapshot.py)."""
    for unused in (ONE_SHOT_UNUSED, (*ONE_SHOT_UNUSED, "sqlalchemy")):
        done = subprocess.run(
            [sys.executable, "-c", ONE_SHOT, str(tmp_path), str(policy_dir), *unused],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        assert ast.literal_eval(done.stdout.strip().splitlines()[-1]) == []
