"""`vigil policy ...`: versions, activation and rollback from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli_output import fail
from vigil.errors import VigilError
from vigil.settings import load_settings

policy_app = typer.Typer(help="Policies: versions, activation, rollback.", no_args_is_help=True)
CLI_ACTOR = "cli"


def _run(action: Callable[[Any], Any]) -> None:
    """Call ``action`` with the policy repository and print its result as JSON."""
    from vigil.service.context import build, prepare_database

    try:
        settings = load_settings()
        prepare_database(settings)
        vigil = build(settings)
        try:
            result = action(vigil.policies)
        finally:
            vigil.close()
    except VigilError as exc:
        fail(exc)
    print(json.dumps(result, indent=2))


@policy_app.command("list")
def list_policies() -> None:
    """Every policy and its active version."""
    _run(lambda repo: repo.summary())


@policy_app.command("show")
def show(
    name: str, version: Annotated[int | None, typer.Option(help="Default: the active one.")] = None
) -> None:
    """A policy version with its source text."""
    _run(lambda repo: repo.describe(name, version))


@policy_app.command("versions")
def versions(name: str) -> None:
    """Every version of a policy."""
    _run(lambda repo: repo.versions(name))


@policy_app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    activate: Annotated[bool, typer.Option("--activate/--no-activate")] = True,
) -> None:
    """Validate a policy YAML file and store it as a new version (active unless told not)."""
    text = file.read_text(encoding="utf-8")
    _run(lambda repo: repo.submit(text, CLI_ACTOR, activate=activate, origin=str(file)))


@policy_app.command("activate")
def activate_version(name: str, version: int) -> None:
    """Make a version the active one."""
    _run(lambda repo: repo.activate(name, version, CLI_ACTOR))


@policy_app.command("rollback")
def rollback(name: str) -> None:
    """Activate the version before the active one."""
    _run(lambda repo: repo.rollback(name, CLI_ACTOR))
