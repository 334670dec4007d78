"""`vigil models pull|list`: model bundles in the models directory (the clip detector's)."""

from __future__ import annotations

from typing import Annotated

import typer

from vigil.cli.output import fail
from vigil.errors import VigilError
from vigil.service.engine.model_pull import REGISTRY, installed, pull
from vigil.settings import load_settings

models_app = typer.Typer(help="Download and list model bundles (VIGIL_MODELS_DIR).")


@models_app.command("pull")
def pull_model(
    name: Annotated[str, typer.Argument(help="The model's name, e.g. clip-vit-b32.")],
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the server before giving up.")
    ] = 30.0,
) -> None:
    """Download a model bundle, checking every file's pinned sha256. Needs internet."""
    try:
        folder = pull(name, load_settings().resolved_models_dir, timeout=timeout)
    except VigilError as exc:
        fail(exc)
    print(f"{name}: installed in {folder}")


@models_app.command("list")
def list_models() -> None:
    """The bundles installed in the models directory, and those vigil can pull."""
    models_dir = load_settings().resolved_models_dir
    present = installed(models_dir)
    print(f"models directory: {models_dir}")
    for name in present:
        print(f"{name}\tinstalled")
    for name in sorted(set(REGISTRY) - set(present)):
        print(f"{name}\tavailable: vigil models pull {name}")
    if not present and not REGISTRY:
        print("no models installed")
