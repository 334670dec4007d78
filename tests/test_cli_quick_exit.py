"""A `vigil` process that ends without the interpreter's teardown (vigil/cli/quick_exit.py,
issue 17) prints everything, keeps its exit status and runs its exit handlers; it ends the
usual way when a thread is still working. The collector paused for a command's start-up
(vigil/cli/gc_pause.py) is on again afterwards."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.cli_runner import run_process
from tests.images import astronaut_jpeg
from vigil.cli.gc_pause import paused_gc
from vigil.cli.quick_exit import _plain_status

ENV = {"VIGIL_DETECTORS": "nsfw"}  # one small detector: the detectors are not the subject


def _script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a new interpreter that ends through ``quick_exit`` as `vigil` does."""
    code = textwrap.dedent(
        """
        import atexit, sys, threading, time
        from vigil.cli import quick_exit
        quick_exit.allow()
        atexit.register(lambda: print("exit handler ran"))
        """
    ) + textwrap.dedent(body)
    script = tmp_path / "script.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )


def test_moderate_prints_every_result_and_keeps_its_status(tmp_path: Path) -> None:
    (tmp_path / "astronaut.jpg").write_bytes(astronaut_jpeg())
    (tmp_path / "notes.jpg").write_text("not an image")
    done = run_process("moderate", "astronaut.jpg", "notes.jpg", cwd=tmp_path, env=ENV)
    assert done.returncode == 1, done.stderr  # one file was refused
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["decision"]["action"] == "allow"
    assert second["error"]["code"] == "InvalidImageFormat"
    assert "Traceback" not in done.stderr


def test_keys_create_prints_the_secret_last_and_refusals_exit_2(tmp_path: Path) -> None:
    created = run_process("keys", "create", "--role", "uploader", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines()[-1].startswith("vgl_")
    refused = run_process("keys", "create", "--role", "emperor", cwd=tmp_path)
    assert refused.returncode == 2
    assert "error" in refused.stderr


def _console_script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``app(ARGS)`` as the `vigil` console script calls it, in a process whose one object
    says when the interpreter's teardown frees it."""
    code = textwrap.dedent(
        f"""
        import atexit, gc, os
        from vigil.cli.main import app

        class Teardown:
            def __del__(self):
                os.write(1, b"torn down\\n")

        kept = Teardown()  # a module global: freed only by the interpreter's teardown
        atexit.register(lambda: print("frozen:", gc.get_freeze_count() > 0))
        app({list(args)!r}, prog_name="vigil")
        """
    )
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env
    )


def test_the_console_script_skips_the_teardown_only_where_allowed(tmp_path: Path) -> None:
    listed = _console_script(tmp_path, "keys", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "torn down" not in listed.stdout
    *printed, frozen = listed.stdout.splitlines()
    assert json.loads("\n".join(printed)) == []  # printed in full before the process ended
    assert frozen == "frozen: True"  # its start-up is out of the collector's passes
    helped = _console_script(tmp_path, "--help")
    assert helped.returncode == 0
    assert helped.stdout.endswith("frozen: False\ntorn down\n")


def test_output_not_yet_flushed_and_exit_handlers_survive(tmp_path: Path) -> None:
    done = _script(
        tmp_path,
        """
        sys.stdout.write("no newline, still buffered")
        quick_exit.end_now(3)
        print("not reached")
        """,
    )
    assert done.returncode == 3
    assert done.stdout == "no newline, still bufferedexit handler ran\n"


def test_a_working_thread_is_waited_for(tmp_path: Path) -> None:
    done = _script(
        tmp_path,
        """
        def work():
            time.sleep(0.5)
            print("thread finished")
        threading.Thread(target=work).start()
        quick_exit.end_now(0)
        print("the usual exit")
        sys.exit(4)
        """,
    )
    assert done.returncode == 4
    assert done.stdout.splitlines() == ["the usual exit", "thread finished", "exit handler ran"]


@pytest.mark.parametrize(
    ("code", "status"), [(None, 0), (0, 0), (2, 2), (255, 255), (256, None), ("oops", None)]
)
def test_only_a_status_the_os_keeps_is_ended_early(code: object, status: int | None) -> None:
    assert _plain_status(code) == status


def test_the_collector_is_paused_for_the_block_only() -> None:
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen  # a host process's garbage stays collectable
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
