"""Running `vigil` in tests, in a data directory of its own.

``run`` calls the CLI in this process with Typer's runner: the same command tree, options and
exit codes, without a new interpreter importing everything again (a second or more a call).
Commands that serve until stopped, and tests that check a real process (its start-up, its
stderr as a terminal sees it), use ``run_process``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from typer.testing import CliRunner

from tests.servers import VIGIL

# Commands that run until a signal: only a real process can run them.
LONG_RUNNING = frozenset({"serve", "worker"})
# Variables read when an interpreter starts (plugins installed on PYTHONPATH are found through
# their entry points then): a call that sets one needs a new process.
AT_START = frozenset({"PYTHONPATH"})


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``vigil ARGS`` in ``cwd``, its data in ``cwd/data``; output captured as text."""
    if (args and args[0] in LONG_RUNNING) or AT_START & set(env or {}):
        return run_process(*args, cwd=cwd, env=env)
    from vigil.cli.main import app

    with _inside(cwd):
        result = CliRunner().invoke(app, list(args), env=_environment(cwd, env))
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # What the interpreter would have printed for an uncaught exception.
        stderr += f"{type(result.exception).__name__}: {result.exception}\n"
    return subprocess.CompletedProcess(["vigil", *args], result.exit_code, result.stdout, stderr)


def run_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``vigil ARGS`` as a new process, like ``run``."""
    return subprocess.run(
        [VIGIL, *args],
        cwd=cwd,
        env={**os.environ, **_environment(cwd, env)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _environment(cwd: Path, env: dict[str, str] | None) -> dict[str, str]:
    return {"VIGIL_DATA_DIR": str(cwd / "data"), **(env or {})}


@contextmanager
def _inside(folder: Path) -> Iterator[None]:
    """The working directory set to ``folder`` (relative paths, ./vigil.toml) for a call."""
    before = Path.cwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
