"""`vigil eval MANIFEST.csv`: precision, recall and F1 per category at the policy's thresholds,
the share of files sent to review, and (``--plot``) precision-recall curves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.output import OutputFormat, err, fail, loaded_engine
from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.policy.model import Policy
    from vigil.service.engine.evaluation import Evaluation, Sample
    from vigil.service.engine.evaluation_run import Refused


def evaluate(
    manifest: Annotated[Path, typer.Argument(help="CSV with the columns path,label.")],
    policy: Annotated[str | None, typer.Option(help="Policy name (default: the default).")] = None,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    plot: Annotated[
        Path | None, typer.Option(help="Write precision-recall curves to this PNG.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=64)] = 8,
) -> None:
    """Moderate every file of a labelled manifest and print precision, recall and F1 per
    top-level category, and the share of files that would go to review. Exit 1 if any file
    was refused (it is left out of the figures)."""
    from vigil.service.engine.evaluation import evaluate_samples, pr_curve
    from vigil.service.engine.evaluation_run import moderate_rows, read_manifest

    try:
        rows = read_manifest(manifest)
    except VigilError as exc:
        fail(exc)
    engine, chosen = loaded_engine(policy)
    samples, refused = moderate_rows(rows, engine, chosen, batch_size)
    result = evaluate_samples(samples)
    curves = {m.category: pr_curve(m.category, samples) for m in result.categories}
    if output is OutputFormat.JSON:
        print(json.dumps(_report(chosen, result, samples, refused, curves), indent=2))
    else:
        _print_table(chosen, result, refused)
    if plot is not None:
        from vigil.cli.plot import draw_pr_curves

        draw_pr_curves(curves, plot, f"{manifest.name}: {len(samples)} files")
        err.print(f"precision-recall curves written to {plot}")
    if refused:
        raise typer.Exit(1)


def _report(
    policy: Policy,
    result: Evaluation,
    samples: list[Sample],
    refused: list[Refused],
    curves: dict[str, Any],
) -> dict[str, Any]:
    return {
        "policy": policy.name,
        "policy_version": policy.version,
        **result.to_dict(),
        "samples": [_sample(sample) for sample in samples],
        "refused": [vars(item) for item in refused],
        "curves": {
            category: [[p.threshold, round(p.precision, 4), round(p.recall, 4)] for p in points]
            for category, points in curves.items()
        },
    }


def _sample(sample: Sample) -> dict[str, Any]:
    return {
        "file": sample.path,
        "label": sample.truth,
        "action": sample.action,
        "flagged": dict(sample.flagged),
        "scores": {name: round(score, 2) for name, score in sample.scores.items()},
    }


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _print_table(policy: Policy, result: Evaluation, refused: list[Refused]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    table = Table(title=f"policy {policy.name} @ {policy.version}: {result.files} file(s)")
    headers = ("Category", "Positives", "Flagged", "TP", "FP", "FN")
    for column in (*headers, "Precision", "Recall", "F1", "FP rate"):
        table.add_column(column)
    for m in result.categories:
        counts = (m.positives, m.flagged, m.true_positives, m.false_positives, m.false_negatives)
        rates = (m.precision, m.recall, m.f1, m.false_positive_rate)
        table.add_row(m.category, *map(str, counts), *map(_rate, rates))
    console.print(table)
    share = result.review_share or 0.0
    block = result.block_share or 0.0
    console.print(
        f"review share: {share:.1%} ({result.reviewed} of {result.files}); "
        f"blocked: {block:.1%} ({result.blocked})"
    )
    for item in refused:
        console.print(f"refused {item.path}: {item.code}: {item.message}")
