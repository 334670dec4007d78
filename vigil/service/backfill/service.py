"""`vigil scan` and `vigil rescan` as calls: source, plan, executor (here or Ray), sink."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.errors import InvalidParameter
from vigil.service.backfill.report import Report, Tally
from vigil.service.backfill.rescan import RescanPlan, candidates
from vigil.service.backfill.runner import (
    Executor,
    Line,
    LocalExecutor,
    OnProgress,
    WorkerPlan,
    run_backfill,
)
from vigil.service.backfill.scan import ScanPlan
from vigil.service.backfill.sources import SourceSpec

if TYPE_CHECKING:
    from vigil.policy.model import Policy
    from vigil.settings import Settings


@dataclass(frozen=True)
class RunOptions:
    """How a backfill runs: ``ray`` is a cluster address (``auto``) or None for here."""

    batch_size: int = 8
    ray: str | None = None
    workers: int | None = None  # Ray actors; default one per cluster CPU
    on_progress: OnProgress | None = None
    on_line: Callable[[Line], None] | None = None
    # Called with the executor once it exists (the tests kill Ray actors mid-run).
    on_executor: Callable[[Executor], None] | None = field(default=None, compare=False)


def active_policy(settings: Settings, name: str | None) -> Policy:
    """The database migrated and the active version of policy ``name`` (None: the default),
    resolved once so that every worker decides alike."""
    from vigil.app import build, prepare_database

    prepare_database(settings)
    vigil = build(settings)
    try:
        return vigil.policy(name)
    finally:
        vigil.close()


def source_spec(settings: Settings, target: str) -> SourceSpec:
    """A folder or ``s3://bucket/prefix``, with vigil's S3 settings for the latter."""
    if not target.startswith("s3://") and not Path(target).is_dir():
        raise InvalidParameter(f"{target} is neither a folder nor an s3://BUCKET/PREFIX URL")
    return SourceSpec(target, settings.s3_endpoint_url or None, settings.s3_region)


def scan(plan: ScanPlan, report: Path | None, options: RunOptions) -> Tally:
    """Every object of the plan's source, moderated; one report line each."""
    sink = Report(report) if report else None
    keys = list(plan.source.open().keys())
    try:
        return _run(plan, keys, sink, options)
    finally:
        if sink is not None:
            sink.close()


def rescan_plan(settings: Settings, detectors: list[str] | None) -> RescanPlan:
    chosen = settings.model_copy(update={"detectors": detectors}) if detectors else settings
    return RescanPlan(chosen)


def rescan(plan: RescanPlan, since: datetime, options: RunOptions) -> Tally:
    """Stored image assets uploaded since ``since``, decided again where their model version
    is not the current one."""
    from vigil.storage.db import Database

    db = Database(plan.settings.resolved_database_url)
    try:
        ids = candidates(db, since)
    finally:
        db.dispose()
    return _run(plan, ids, None, options)


def parse_since(text: str) -> datetime:
    """An ISO date or date-time; UTC unless it names its zone."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as bad:
        raise InvalidParameter(f"--since must be an ISO date (2026-01-31), not {text!r}") from bad
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _run(plan: WorkerPlan, keys: list[str], sink: Report | None, options: RunOptions) -> Tally:
    tally = Tally()

    def take(line: Line) -> None:
        tally.add(line)
        if sink is not None:
            sink.write(line)
        if options.on_line is not None:
            options.on_line(line)

    executor = _executor(plan, options)
    try:
        run_backfill(executor, keys, options.batch_size, take, options.on_progress)
    finally:
        executor.close()
    return tally


def _executor(plan: WorkerPlan, options: RunOptions) -> Executor:
    executor: Executor
    if options.ray is None:
        executor = LocalExecutor(plan)
    else:
        from vigil.service.backfill.ray_cluster import RayExecutor

        executor = RayExecutor(options.ray, plan, options.workers)
    if options.on_executor is not None:
        options.on_executor(executor)
    return executor


def portable(settings: Settings) -> Settings:
    """``settings`` with relative paths made absolute: Ray workers start in another folder."""
    paths = {
        name: value.resolve()
        for name, value in settings.__dict__.items()
        if isinstance(value, Path) and not value.is_absolute()
    }
    return settings.model_copy(update=paths) if paths else settings
