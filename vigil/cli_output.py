"""What every `vigil` command shares for talking to people: stderr and refusals."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from vigil.errors import VigilError

# soft_wrap: messages are not broken at the terminal width, so they can be grepped.
err = Console(stderr=True, soft_wrap=True)


def fail(exc: VigilError) -> NoReturn:
    """Print a refusal with its stable code and exit with status 2."""
    err.print(f"[red]error[/red] {exc.code}: {exc.message}", markup=True, highlight=False)
    raise typer.Exit(2)
