"""Ending a `vigil` process without the interpreter's teardown (docs/speed.md, "CLI start-up").

Once a command is done, Python tears down every module and frees every object before the
process ends: most of a second after the detectors were loaded (onnxruntime's, mediapipe's
and TensorFlow Lite's native objects), a third of a second after `vigil keys create`. A
command whose output is all printed and that leaves no file half-written opts in with
``allow()``; ``end_now`` then runs the exit handlers (logging's flush among them), flushes
stdout and stderr and ends the process with the same status, skipping only the teardown.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading

_allowed = False


def allow() -> None:
    """Let this process end without the interpreter's teardown once its command returns."""
    global _allowed
    _allowed = True


def end_now(code: object) -> None:
    """End the process with ``code``, a SystemExit's, where ``allow()`` was called and it is
    safe; otherwise return, and the interpreter exits as usual."""
    status = _plain_status(code)
    if not _allowed or status is None or _threads_running() or not _flushed():
        return
    atexit._run_exitfuncs()
    _flushed()  # what the exit handlers printed
    _flush_native()
    os._exit(status)


def _plain_status(code: object) -> int | None:
    """The status ``sys.exit(code)`` ends with; None where it would print ``code`` first."""
    if code is None:
        return 0
    if isinstance(code, int) and 0 <= code <= 255:
        return int(code)
    return None


def _threads_running() -> bool:
    """A thread the interpreter would wait for: its work must not be cut short."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def _flushed() -> bool:
    """Flush stdout and stderr; False if that failed (a closed pipe), which the interpreter
    reports its own way."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return False
    return True


def _flush_native() -> None:
    """Flush the C library's stdio buffers, as exit() would: a native library's printf to a
    pipe sits there, and os._exit drops it."""
    import ctypes  # here: `vigil --help` need not import it

    # OSError and the rest: no C library to load by that name (Windows).
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)
