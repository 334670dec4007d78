"""Native libraries' start-up chatter held back from stderr (docs/cli.md, "--verbose").

MediaPipe writes four lines to the process's stderr (file descriptor 2, from C++) when its graph
starts: TFLite's "Created XNNPACK delegate" and absl's pre-InitializeLog warnings. No variable
silences them (GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL, TFLITE_LOG_VERBOSITY and
ABSL_MIN_LOG_LEVEL change nothing), so the descriptor is pointed at a file while the graph
starts, and everything written there except those known lines is written back afterwards:
nothing real is hidden, only delayed. With ``--verbose`` (vigil's logger at DEBUG) nothing is
held back.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

# The start-up lines known to carry nothing a user can act on.
NOISE = re.compile(
    rb"^(INFO: Created TensorFlow Lite XNNPACK delegate"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|W0000 [^\n]*inference_feedback_manager\.cc)"
)


@contextmanager
def quiet_native_start() -> Iterator[None]:
    """Hold back the known start-up lines written to descriptor 2 inside the block."""
    if logging.getLogger("vigil").isEnabledFor(logging.DEBUG):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            kept = [line for line in held.read().splitlines(True) if not NOISE.match(line)]
            if kept:
                os.write(2, b"".join(kept))
