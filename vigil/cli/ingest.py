"""`vigil ingest ...`: consuming S3 event notifications from an SQS queue (docs/sqs-ingest.md)."""

from __future__ import annotations

import json
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

from vigil.cli.output import err, fail, print_result
from vigil.errors import VigilError

ingest_app = typer.Typer(help="Moderate objects as they arrive in S3.", no_args_is_help=True)


@ingest_app.command("sqs")
def sqs(
    queue_url: Annotated[str, typer.Option("--queue-url", help="The SQS queue's URL.")],
    once: Annotated[
        bool, typer.Option("--once", help="Stop when the queue has no message left (burst).")
    ] = False,
) -> None:
    """Consume S3 event notifications: moderate each new object, store the result, tag the
    object vigil-status=..., quarantine rejected ones. One JSON line per object on stdout."""
    from vigil.app import build, prepare_storage
    from vigil.aws.sqs_ingest import ObjectResult, SqsIngest
    from vigil.settings import load_settings

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        err.print("stopping after the current message...")
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def show(result: ObjectResult) -> None:
        print(json.dumps(result.to_dict()), flush=True)

    try:
        settings = load_settings()
        prepare_storage(settings)
        vigil = build(settings)
        try:
            vigil.engine.load()
            consumer = SqsIngest(vigil, queue_url)
            err.print(f"consuming {queue_url}")
            stats = consumer.run(burst=once, on_result=show, should_stop=stop.is_set)
        finally:
            vigil.close()
    except VigilError as exc:
        fail(exc)
    summary = {key: value for key, value in stats.to_dict().items() if key != "objects"}
    err.print(json.dumps(summary))


@ingest_app.command("dead-letters")
def dead_letters(
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """SQS messages given up on after VIGIL_INGEST_MAX_RECEIVES receives, with the error."""
    from vigil.aws.sqs_ingest import dead_letters as listed

    print_result(lambda vigil: listed(vigil, limit))
