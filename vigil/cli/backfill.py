"""`vigil scan s3://...` / `--ray` / `--record`, and `vigil rescan` (docs/scale-out.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.output import err, fail
from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.service.backfill.report import Tally
    from vigil.service.backfill.service import RunOptions

RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run on the Ray cluster at ADDRESS (auto: the one this machine is in); "
        "needs the vigil\\[ray] extra. Default: here, in this process.",
    ),
]
WorkersOption = Annotated[
    int | None, typer.Option(min=1, help="With --ray: worker actors (default: one per CPU).")
]


def needs_backfill(target: str, report: Path | None, record: bool, ray: str | None) -> bool:
    """Whether `vigil scan` takes the backfill path; a plain folder scan keeps the original
    one (it also moderates videos, with their segments)."""
    parquet = report is not None and report.suffix == ".parquet"
    return target.startswith("s3://") or record or ray is not None or parquet


def scan_backfill(
    target: str,
    report: Path | None,
    *,
    floor: float | None,
    policy: str | None,
    context: dict[str, str],
    batch_size: int,
    record: bool,
    ray: str | None,
    workers: int | None,
) -> None:
    """Images under a folder or an S3 prefix, here or on Ray; a summary on stdout."""
    from datetime import UTC, datetime

    from vigil.policy.context import resolve_context
    from vigil.service.backfill import service
    from vigil.service.backfill.scan import ScanPlan

    try:
        settings, chosen = _prepared(policy)
        resolve_context(chosen, context, datetime.now(UTC))  # refused before any object
        plan = ScanPlan(
            settings=settings,
            source=service.source_spec(settings, target),
            policy=chosen,
            context=context,
            floor=settings.min_confidence if floor is None else floor,
            record=record,
        )
        tally = service.scan(plan, report, _options(batch_size, ray, workers))
    except VigilError as exc:
        fail(exc)
    _finish(tally)


def rescan(
    since: Annotated[
        str, typer.Option(help="Assets uploaded on or after this ISO date (UTC) or date-time.")
    ],
    detectors: Annotated[
        str | None,
        typer.Option(help="Detectors to run, comma-separated (default: VIGIL_DETECTORS)."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=64)] = 8,
    ray: RayOption = None,
    workers: WorkersOption = None,
) -> None:
    """Decide stored image assets again with the detectors enabled now: new labels,
    detections and decision, an audit event saying why; assets already scanned with the
    current model version are skipped, so a rerun is a no-op."""
    from vigil.service.backfill import service

    names = [name.strip() for name in (detectors or "").split(",") if name.strip()]
    try:
        when = service.parse_since(since)
        settings, _ = _prepared(None)
        plan = service.rescan_plan(settings, names or None)
        tally = service.rescan(plan, when, _options(batch_size, ray, workers))
    except VigilError as exc:
        fail(exc)
    _finish(tally)


def _prepared(policy: str | None) -> tuple[Any, Any]:
    """Settings with absolute paths (a Ray worker starts elsewhere) and the policy's active
    version."""
    from vigil.service.backfill.service import active_policy, portable
    from vigil.settings import load_settings

    settings = portable(load_settings())
    return settings, active_policy(settings, policy)


def _options(batch_size: int, ray: str | None, workers: int | None) -> RunOptions:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from vigil.service.backfill.service import RunOptions

    bar = Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err.console,
    )
    task = bar.add_task("scanning", total=None)

    def progress(done: int, total: int) -> None:
        bar.start()  # shown once work is under way, so set-up errors print cleanly
        bar.update(task, completed=done, total=total)
        if done >= total:
            bar.stop()

    def show_error(line: dict[str, Any]) -> None:
        if "error" in line:
            item = line.get("file") or line.get("asset_id")
            err.print(f"skipped {item}: {line['error']['code']}", markup=False, highlight=False)

    return RunOptions(
        batch_size=batch_size, ray=ray, workers=workers, on_progress=progress, on_line=show_error
    )


def _finish(tally: Tally) -> None:
    print(json.dumps(tally.to_dict()))
