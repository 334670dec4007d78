"""vigil's app served over real HTTP from a thread of the test process, for clients that need
a socket (boto3); the test keeps the Vigil object, so `drain(vigil)` runs its worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from tests.servers import free_port
from vigil.api.app import create_app
from vigil.app import Vigil


@contextmanager
def live_app(vigil: Vigil) -> Iterator[str]:
    """The base URL of ``vigil``'s app (no background worker), stopped on exit."""
    port = free_port()
    config = uvicorn.Config(
        create_app(vigil, run_worker=False), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test HTTP server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
