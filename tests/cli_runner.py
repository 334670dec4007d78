"""Running the installed `vigil` command in tests, in a data directory of its own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.servers import VIGIL


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``vigil ARGS`` in ``cwd``, its data in ``cwd/data``; output captured as text."""
    return subprocess.run(
        [VIGIL, *args],
        cwd=cwd,
        env={**os.environ, "VIGIL_DATA_DIR": str(cwd / "data"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )
