"""The cyclic garbage collector paused while a one-shot `vigil` command starts (docs/speed.md,
"CLI start-up").

Starting `vigil moderate` or `vigil keys create` makes hundreds of thousands of objects that
live until the process ends (modules, SQLAlchemy's tables, the detectors' models) and frees
almost none, so the collector's passes over the growing heap find nothing to free: a tenth of
a second or more of each command. In the `vigil` process itself those objects are then frozen
out of the collector's passes (``gc.freeze``); the first pass after the pause would otherwise
scan them all once more. A process that only hosts the command (the tests' in-process runner)
is not frozen: its garbage stays collectable.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_own_process = False


def own_process() -> None:
    """Say that this process is the `vigil` command itself (its console script's call)."""
    global _own_process
    _own_process = True


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic collector off; it is on again afterwards if it was on
    before (reference counting frees everything else as usual meanwhile)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if _own_process:
            gc.freeze()  # what start-up made lives until the process ends
        if was_on:
            gc.enable()
