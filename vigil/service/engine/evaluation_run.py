"""Running an evaluation: read a ``path,label`` manifest, moderate every file, keep what the
metrics need (``vigil.service.engine.evaluation`` computes them)."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil import taxonomy
from vigil.errors import InvalidManifest, VigilError
from vigil.policy.model import Policy
from vigil.service.engine.evaluation import SAFE, Sample, category_actions, category_scores
from vigil.service.engine.moderation import ModerationEngine, ModerationResult

COLUMNS = ("path", "label")


@dataclass(frozen=True)
class ManifestRow:
    path: Path  # relative paths are taken from the manifest's folder
    label: str  # a taxonomy name or ``safe``
    line: int


@dataclass(frozen=True)
class Refused:
    """A manifest file that could not be moderated; it is left out of the metrics."""

    path: str
    code: str
    message: str


def read_manifest(manifest: Path) -> list[ManifestRow]:
    """Every row of the CSV manifest; ``InvalidManifest`` names the line of a bad one."""
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidManifest(f"cannot read manifest {manifest}: {exc}") from exc
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or any(c not in reader.fieldnames for c in COLUMNS):
        raise InvalidManifest(f"manifest {manifest} needs a header with the columns path,label")
    rows = [_row(manifest.parent, record, reader.line_num) for record in reader]
    if not rows:
        raise InvalidManifest(f"manifest {manifest} lists no files")
    return rows


def _row(base: Path, record: dict[str, str], line: int) -> ManifestRow:
    path, label = ((record.get(column) or "").strip() for column in COLUMNS)
    if not path:
        raise InvalidManifest(f"line {line}: the path is empty")
    if label.lower() == SAFE:
        label = SAFE
    elif not taxonomy.is_label(label):
        raise InvalidManifest(
            f"line {line}: unknown label {label!r}; use a taxonomy name (docs/detectors.md) or safe"
        )
    return ManifestRow(base / path, label, line)


def moderate_rows(
    rows: Sequence[ManifestRow], engine: ModerationEngine, policy: Policy, batch_size: int = 8
) -> tuple[list[Sample], list[Refused]]:
    """A sample per moderated file and a refusal per file that could not be."""
    samples: list[Sample] = []
    refused: list[Refused] = []
    for start in range(0, len(rows), batch_size):
        for row, outcome in _outcomes(rows[start : start + batch_size], engine, policy):
            if isinstance(outcome, VigilError):
                refused.append(Refused(str(row.path), outcome.code, outcome.message))
            else:
                samples.append(to_sample(row, outcome, policy))
    return samples, refused


def _outcomes(
    chunk: Sequence[ManifestRow], engine: ModerationEngine, policy: Policy
) -> Iterator[tuple[ManifestRow, ModerationResult | VigilError]]:
    readable: list[tuple[ManifestRow, bytes]] = []
    for row in chunk:
        try:
            readable.append((row, row.path.read_bytes()))
        except OSError as exc:
            yield row, VigilError(f"cannot read {row.path}: {exc.strerror}", code="FileUnreadable")
    outcomes = engine.moderate_batch([data for _, data in readable], policy)
    yield from zip((row for row, _ in readable), outcomes, strict=True)


def to_sample(row: ManifestRow, result: ModerationResult, policy: Policy) -> Sample:
    return Sample(
        path=str(row.path),
        truth=row.label,
        scores=category_scores(result.labels),
        flagged=category_actions(result.labels, policy),
        action=result.decision.action,
    )
