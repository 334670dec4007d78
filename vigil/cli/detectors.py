"""`vigil detectors`: every installed detector plugin, its labels and licence, and its state."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from vigil.cli.output import OutputFormat, err, fail
from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.service.engine.detectors import DetectorInfo


def detectors(
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
    load: Annotated[
        bool, typer.Option("--load", help="Load each detector's model and report failures.")
    ] = False,
    providers: Annotated[
        bool,
        typer.Option(
            "--providers",
            help="Instead: the onnxruntime builds installed, their execution providers and "
            "the ones a session gets with VIGIL_EXECUTION_PROVIDERS (docs/gpu.md).",
        ),
    ] = False,
) -> None:
    """List every installed detector: version, labels, licence, enabled, loaded. Exits 1 when
    an enabled detector failed (with --load: failed to load; with --providers: when the
    providers are not as asked or two onnxruntime builds are installed)."""
    from vigil.service.engine.detectors import list_detectors
    from vigil.settings import load_settings

    if providers:
        _providers(output)
        return
    try:
        found = list_detectors(load_settings(), load=load)
    except VigilError as exc:
        fail(exc)
    if output is OutputFormat.JSON:
        print(json.dumps([info.to_dict() for info in found], indent=2))
    else:
        _print_table(found)
    if any(info.enabled and info.state == "failed" for info in found):
        raise typer.Exit(1)


def _print_table(found: list[DetectorInfo]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="vigil detectors")
    for column in ("Name", "Version", "Labels", "Licence", "Enabled", "On demand", "State"):
        table.add_column(column)
    for info in found:
        state = f"{info.state}: {info.error}" if info.error else info.state
        cells = (
            info.name,
            info.version or "-",
            ", ".join(info.labels),
            info.licence,
            "yes" if info.enabled else "no",
            "yes" if info.on_demand else "no",
            state,
        )
        table.add_row(*(escape(cell) for cell in cells))
    Console(width=200).print(table)


def _providers(output: OutputFormat) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from vigil.detectors.providers import report
    from vigil.settings import load_settings

    try:
        found = report(load_settings().execution_providers)
    except VigilError as exc:
        fail(exc)
    if output is OutputFormat.JSON:
        print(json.dumps(found, indent=2))
    else:
        builds = ", ".join(f"{name}=={version}" for name, version in found["distributions"].items())
        rows = (
            ("onnxruntime builds installed", builds or "none"),
            ("onnxruntime module", f"{found['onnxruntime']} ({found['device']})"),
            ("available providers", ", ".join(found["available"])),
            ("VIGIL_EXECUTION_PROVIDERS", ",".join(found["requested"])),
            ("sessions ask for", ", ".join(found["providers"]) or "-"),
            ("a session gets", ", ".join(found["session"]) or "-"),
        )
        table = Table(title="vigil execution providers", show_header=False)
        for row in rows:
            table.add_row(*(escape(cell) for cell in row))
        Console(width=200).print(table)
        for problem in found["problems"]:
            err.print(f"[yellow]warning[/yellow] {escape(problem)}", highlight=False)
    if found["problems"]:
        raise typer.Exit(1)
