"""`vigil worker` and `vigil jobs ...`: running and inspecting the job queue."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from vigil.cli.output import err, fail, print_result
from vigil.errors import InvalidParameter, VigilError

jobs_app = typer.Typer(help="The job queue: list, inspect, requeue.", no_args_is_help=True)


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Worker threads; default VIGIL_WORKER_THREADS (3)."),
    ] = None,
) -> None:
    """Run queue workers until SIGTERM or Ctrl-C; the batches in hand are finished first."""
    from vigil.app import build, prepare_database
    from vigil.runtime.background import Background
    from vigil.settings import load_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        settings = load_settings()
        threads = concurrency or settings.worker_threads
        prepare_database(settings)
        vigil = build(settings, worker_threads=threads)
        vigil.engine.load()
    except VigilError as exc:
        fail(exc)
    background = Background(vigil, concurrency=threads)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        err.print(f"signal {signum}: finishing the jobs in hand, then stopping")
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    background.start()
    err.print(f"vigil worker running with {threads} thread(s)")
    stop.wait()
    background.stop()
    vigil.close()


@jobs_app.command("list")
def list_jobs(
    state: Annotated[str | None, typer.Option(help="queued, running, done or dead.")] = None,
    kind: Annotated[str | None, typer.Option(help="moderate, webhook, alert_email...")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Jobs, newest first."""
    print_result(lambda vigil: vigil.queue.list_jobs(state=state, kind=kind, limit=limit))


@jobs_app.command("show")
def show(job_id: int) -> None:
    """One job, with its attempts and last error."""
    print_result(lambda vigil: vigil.queue.get(job_id))


@jobs_app.command("stats")
def stats() -> None:
    """Jobs per state and kind, and the age of the oldest waiting job."""
    print_result(lambda vigil: vigil.queue.stats())


@jobs_app.command("requeue")
def requeue(
    job_id: Annotated[int | None, typer.Argument(help="A dead job's id.")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Every dead job.")] = False,
    kind: Annotated[str | None, typer.Option(help="With --all-dead: only this kind.")] = None,
) -> None:
    """Put dead jobs back in the queue with fresh attempts."""
    if (job_id is None) == (not all_dead):
        fail(InvalidParameter("give a job id or --all-dead, not both"))
    if job_id is not None:
        print_result(lambda vigil: vigil.queue.requeue(job_id))
    else:
        print_result(lambda vigil: {"requeued": vigil.queue.requeue_dead(kind)})
