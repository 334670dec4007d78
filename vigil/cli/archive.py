"""`vigil archive ...`: archive what is due now, restore one asset."""

from __future__ import annotations

import typer

from vigil.cli.output import CLI_ADMIN, print_result

archive_app = typer.Typer(
    help="The archive: decided originals in cold storage, restored on demand.",
    no_args_is_help=True,
)
# Whoever runs the CLI has the database and the store in hand: an admin, audited as "cli".


@archive_app.command("run")
def run() -> None:
    """Archive every asset that is due now (what the worker does each pass)."""
    print_result(lambda vigil: vigil.archive.run(CLI_ADMIN))


@archive_app.command("restore")
def restore(asset_id: str) -> None:
    """Move an archived asset's bytes back where its status wants them."""
    print_result(lambda vigil: vigil.archive.restore(asset_id, CLI_ADMIN))
