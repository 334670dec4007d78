"""The `vigil` command: translates arguments into service calls and prints the results."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from vigil.cli import gc_pause

# Importing the command modules makes objects that live until the process ends: the
# collector's passes over them find nothing to free (vigil/cli/gc_pause.py).
with gc_pause.paused_gc():
    import typer

    from vigil.cli import quick_exit
    from vigil.cli.adapters import adapters_app
    from vigil.cli.alerts import alerts_app
    from vigil.cli.archive import archive_app
    from vigil.cli.aws import aws_app
    from vigil.cli.backfill import RayOption, WorkersOption, needs_backfill, rescan, scan_backfill
    from vigil.cli.detectors import detectors
    from vigil.cli.eval import evaluate
    from vigil.cli.ingest import ingest_app
    from vigil.cli.jobs import jobs_app, worker
    from vigil.cli.keys import keys_app
    from vigil.cli.lists import lists_app  # hash lists
    from vigil.cli.models import models_app
    from vigil.cli.output import OutputFormat, err, fail, loaded_engine, parse_pairs
    from vigil.cli.policy import policy_app
    from vigil.cli.presets import presets_app
    from vigil.cli.users import users_app
    from vigil.cli.webhooks import webhooks_app
    from vigil.errors import VigilError

# Only what `vigil --help` needs is imported here; the detector stack, onnx, PyAV, boto3 and
# the service layer are imported inside the commands that use them (tests/test_cli_imports.py).
if TYPE_CHECKING:
    from rich.console import Console

    from vigil.policy.model import Policy
    from vigil.service.engine.moderation import ModerationEngine, ModerationResult
    from vigil.settings import Settings

log = logging.getLogger("vigil.cli")


class _VigilApp(typer.Typer):
    """The `vigil` console script calls ``app()`` (pyproject.toml); a command that allows it
    ends there without the interpreter's teardown (vigil/cli/quick_exit.py), and its start-up
    is frozen out of the collector's passes (vigil/cli/gc_pause.py). The in-process test
    runner invokes the command tree without this call."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        gc_pause.own_process()
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as done:
            quick_exit.end_now(done.code)
            raise


app = _VigilApp(help="vigil: self-hosted content moderation.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")  # docs/keys.md
app.add_typer(policy_app, name="policy")
app.add_typer(presets_app, name="presets")
app.add_typer(alerts_app, name="alerts")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(jobs_app, name="jobs")
app.add_typer(users_app, name="users")
app.add_typer(archive_app, name="archive")
app.add_typer(aws_app, name="aws")
app.add_typer(ingest_app, name="ingest")
app.add_typer(models_app, name="models")
app.add_typer(adapters_app, name="adapters")
app.add_typer(lists_app, name="lists")  # hash lists (docs/hashlists.md)
app.command("worker")(worker)
app.command("detectors")(detectors)
app.command("eval")(evaluate)
app.command("rescan")(rescan)  # docs/scale-out.md#backfill-and-re-scan


@app.callback()
def options(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Log what vigil does to stderr (timings, and the native libraries' start-up "
            "messages, which are otherwise held back).",
        ),
    ] = False,
) -> None:
    """vigil: self-hosted content moderation."""
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="%(levelname)s %(name)s: %(message)s")
        # Only vigil's own debug lines: the libraries' are noise at this level.
        logging.getLogger().setLevel(logging.WARNING)
        logging.getLogger("vigil").setLevel(logging.DEBUG)


def _settings(**overrides: Any) -> Settings:
    from vigil.settings import load_settings

    try:
        return load_settings(**overrides)
    except VigilError as exc:
        fail(exc)


def _moderate_file(
    path: Path,
    engine: ModerationEngine,
    policy: Policy,
    context: dict[str, str],
    floor: float,
    adapter: str | None = None,
) -> dict[str, Any]:
    """One file's result as printed: an image's labels, or a video's labels and segments."""
    from vigil.service.video.files import moderate_video_file, report_dict, video_kind_of

    try:
        kind = video_kind_of(path)
        if kind is not None:
            report = moderate_video_file(path, kind, engine, policy, context, floor)
            return {"file": str(path), **report_dict(report, floor)}
        started = time.perf_counter()
        outcome: ModerationResult | VigilError = engine.moderate(
            path.read_bytes(), policy, context, adapter
        )
        log.debug("engine: moderated %s in %.3f s", path, time.perf_counter() - started)
    except VigilError as exc:
        outcome = exc
    except OSError as exc:
        outcome = VigilError(f"cannot read {path}: {exc.strerror}", code="FileUnreadable")
    return _outcome_dict(str(path), outcome, floor)


def _outcome_dict(
    path: str, outcome: ModerationResult | VigilError, floor: float
) -> dict[str, Any]:
    if isinstance(outcome, VigilError):
        return {"file": path, **outcome.to_dict()}
    return {"file": path, **outcome.to_dict(floor)}


def _print_table(record: dict[str, Any]) -> None:
    from rich.console import Console  # here: JSON output needs no rich
    from rich.table import Table

    console = Console()
    if "error" in record:
        console.print(
            f"{record['file']}: refused, {record['error']['code']}: {record['error']['message']}"
        )
        return
    decision = record["decision"]
    table = Table(title=f"{record['file']}: {decision['action'].upper()} ({decision['rule']})")
    for column in ("Label", "Parent", "Level", "Confidence", "Detector"):
        table.add_column(column)
    for label in record["ModerationLabels"]:
        table.add_row(
            label["Name"],
            label["ParentName"],
            str(label["TaxonomyLevel"]),
            f"{label['Confidence']:.1f}",
            label["Detector"],
        )
    console.print(table)
    if "Segments" in record:
        _print_segments(console, record)
    console.print(
        f"policy {decision['policy']} @ {decision['policy_version']}: {decision['reason']}"
    )


def _print_segments(console: Console, record: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"segments ({record['StatusMessage']})")
    for column in ("Start", "End", "Label", "Confidence"):
        table.add_column(column)
    for segment in record["Segments"]:
        table.add_row(
            _clock(segment["StartTimestampMillis"]),
            _clock(segment["EndTimestampMillis"]),
            segment["Name"],
            f"{segment['Confidence']:.1f}",
        )
    console.print(table)


def _clock(milliseconds: int) -> str:
    seconds, millis = divmod(milliseconds, 1000)
    return f"{seconds // 60}:{seconds % 60:02d}.{millis:03d}"


@app.command()
def moderate(
    paths: Annotated[list[Path], typer.Argument(help="Image or video files.")],
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.JSON,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            min=0, max=100, help="Lowest confidence reported; default VIGIL_MIN_CONFIDENCE."
        ),
    ] = None,
    policy: Annotated[str | None, typer.Option(help="Policy name.")] = None,
    context: Annotated[
        list[str] | None, typer.Option(help="Policy context KEY=VALUE (region, audience, ...).")
    ] = None,
    adapter: Annotated[
        str | None, typer.Option(help="Also run this custom adapter (images; docs/adapters.md).")
    ] = None,
) -> None:
    """Moderate images and videos; one JSON object per file (exit 1 if any was refused).
    Videos are reported with their segments."""
    quick_exit.allow()  # it prints as it goes and writes no file
    with gc_pause.paused_gc():  # start-up: vigil/cli/gc_pause.py
        floor = _settings().min_confidence if min_confidence is None else min_confidence
        engine, chosen = loaded_engine(policy)
    raw_context = _checked_context(chosen, context or [])
    if adapter:
        try:
            engine.adapters.get(adapter)  # an unknown adapter is refused before any file
        except VigilError as exc:
            fail(exc)
    refused = False
    for path in paths:
        record = _moderate_file(path, engine, chosen, raw_context, floor, adapter)
        refused |= "error" in record
        if output is OutputFormat.JSON:
            print(json.dumps(record))
        else:
            _print_table(record)
    engine.close()
    if refused:
        raise typer.Exit(1)


def _files(root: Path) -> Iterator[Path]:
    return (path for path in sorted(root.rglob("*")) if path.is_file())


@app.command()
def scan(
    target: Annotated[str, typer.Argument(help="A folder, or s3://BUCKET/PREFIX.")],
    report: Annotated[
        Path | None,
        typer.Option(help="Write one line per file here: .jsonl, or .parquet (pyarrow)."),
    ] = None,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            min=0, max=100, help="Lowest confidence reported; default VIGIL_MIN_CONFIDENCE."
        ),
    ] = None,
    policy: Annotated[str | None, typer.Option(help="Policy name.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=64)] = 8,
    context: Annotated[
        list[str] | None, typer.Option(help="Policy context KEY=VALUE (region, audience, ...).")
    ] = None,
    record_assets: Annotated[
        bool, typer.Option("--record", help="Create an asset per image, decided by the policy.")
    ] = False,
    ray: RayOption = None,
    workers: WorkersOption = None,
) -> None:
    """Moderate every file under a folder, recursively, or every object under an S3 prefix,
    and summarise; here, or on a Ray cluster with --ray (docs/scale-out.md)."""
    from rich.console import Console
    from rich.progress import Progress

    from vigil.service.assets.scan import ScanSummary

    if needs_backfill(target, report, record_assets, ray):
        pairs = parse_pairs(context or [])
        scan_backfill(
            target,
            report,
            floor=min_confidence,
            policy=policy,
            context=pairs,
            batch_size=batch_size,
            record=record_assets,
            ray=ray,
            workers=workers,
        )
        return
    directory = Path(target)
    if not directory.is_dir():
        fail(VigilError(f"{target} is not a folder", code="InvalidParameter", status=400))
    floor = _settings().min_confidence if min_confidence is None else min_confidence
    engine, chosen = loaded_engine(policy)
    raw_context = _checked_context(chosen, context or [])
    files = list(_files(directory))
    summary = ScanSummary()
    sink = report.open("w", encoding="utf-8") if report else None
    try:
        with Progress(console=err.console) as progress:
            task = progress.add_task("scanning", total=len(files))
            for start in range(0, len(files), batch_size):
                chunk = files[start : start + batch_size]
                for path, record, outcome in _scan_chunk(chunk, engine, chosen, raw_context, floor):
                    summary.add(str(path), outcome, floor)
                    if sink:
                        sink.write(json.dumps(record or _outcome_dict(str(path), outcome, floor)))
                        sink.write("\n")
                progress.advance(task, len(chunk))
    finally:
        if sink:
            sink.close()
    summary.print(Console())


def _scan_chunk(
    chunk: list[Path],
    engine: ModerationEngine,
    policy: Policy,
    context: dict[str, str],
    floor: float,
) -> Iterator[tuple[Path, dict[str, Any] | None, ModerationResult | VigilError]]:
    """Images in one detector batch; videos one by one, reported with their segments."""
    from vigil.service.video.files import moderate_video_file, report_dict, video_kind_of

    kinds = {path: video_kind_of(path) for path in chunk}
    images = [path for path in chunk if kinds[path] is None]
    outcomes = engine.moderate_batch([path.read_bytes() for path in images], policy, context)
    yield from ((path, None, outcome) for path, outcome in zip(images, outcomes, strict=True))
    for path, kind in kinds.items():
        if kind is None:
            continue
        try:
            report = moderate_video_file(path, kind, engine, policy, context, floor)
        except VigilError as refusal:
            yield path, None, refusal
            continue
        assert report.result is not None
        yield path, {"file": str(path), **report_dict(report, floor)}, report.result


def _checked_context(policy: Policy, pairs: list[str]) -> dict[str, str]:
    """``--context KEY=VALUE`` pairs, refused up front if the policy does not accept them."""
    from vigil.policy.context import resolve_context

    parsed = parse_pairs(pairs)
    try:
        resolve_context(policy, parsed, datetime.now(UTC))
    except VigilError as exc:
        fail(exc)
    return parsed


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address.")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port.")] = None,
    worker: Annotated[bool, typer.Option("--worker/--no-worker")] = True,
) -> None:
    """Serve the HTTP API (and run the background worker unless --no-worker)."""
    import uvicorn

    from vigil.api.app import create_app
    from vigil.app import build, prepare_storage
    from vigil.cli.serving import (
        check_port_free,
        redact_access_log_queries,
        send_audit_log_to_stderr,
    )

    settings = _settings()
    bind_host, bind_port = host or settings.host, port or settings.port
    try:
        check_port_free(bind_host, bind_port)  # before the slow start, not 11 s into it
        admin_key = prepare_storage(settings)
        vigil = build(settings, worker_threads=settings.worker_threads)
    except VigilError as exc:
        fail(exc)
    if admin_key:
        _announce_admin_key(admin_key)
    send_audit_log_to_stderr()
    redact_access_log_queries()
    err.print(f"vigil listening on http://{bind_host}:{bind_port} (docs at /docs)")
    # proxy_headers off: uvicorn would otherwise take X-Forwarded-For from any loopback peer
    # as the client's address; vigil reads it only from VIGIL_TRUSTED_PROXIES (client_ip.py).
    uvicorn.run(
        create_app(vigil, run_worker=worker),
        host=bind_host,
        port=bind_port,
        log_level="info",
        proxy_headers=False,
    )


def _announce_admin_key(key: str) -> None:
    err.print("[bold]Created the first admin API key. It is shown once; keep it:[/bold]")
    print(key, flush=True)


@app.command()
def init() -> None:
    """Create the data directory, apply migrations, create the first admin key."""
    quick_exit.allow()  # it prints and writes nothing but the database, committed
    try:
        with gc_pause.paused_gc():  # importing and preparing: vigil/cli/gc_pause.py
            from vigil.app import prepare_storage

            admin_key = prepare_storage(_settings())
    except VigilError as exc:
        fail(exc)
    if admin_key:
        _announce_admin_key(admin_key)
    else:
        err.print("vigil is initialised (an admin key already exists)")


@app.command("settings")
def show_settings(
    show_secrets: Annotated[
        bool, typer.Option("--show-secrets", help="Print passwords, secrets and keys too.")
    ] = False,
) -> None:
    """Print every setting's effective value and where it came from (secrets hidden)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from vigil.settings import describe

    table = Table(title="vigil settings")
    for column in ("Setting", "Value", "Source", "Help"):
        table.add_column(column)
    for name, value, source, help_text in describe(_settings(), show_secrets):
        shown = ",".join(value) if isinstance(value, list) else str(value)
        cells = (f"VIGIL_{name.upper()}", shown, source, help_text)
        table.add_row(*(escape(cell) for cell in cells))  # help has [brackets], not markup
    Console(width=200).print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
