"""`vigil presets ...`: upload presets from the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.output import parse_pairs, print_result

if TYPE_CHECKING:
    from vigil.service.policies.presets import PresetRepository

presets_app = typer.Typer(
    help="Upload presets: named sets of upload options.", no_args_is_help=True
)
CLI_ACTOR = "cli"


def _run(action: Callable[[PresetRepository], Any]) -> None:
    print_result(lambda vigil: action(vigil.presets))


@presets_app.command("set")
def set_preset(
    name: str,
    moderation: Annotated[str | None, typer.Option(help="auto, manual, none, aws_rek...")] = None,
    policy: Annotated[str | None, typer.Option(help="Policy name.")] = None,
    context: Annotated[list[str] | None, typer.Option(help="KEY=VALUE, repeatable.")] = None,
    notification_url: Annotated[str | None, typer.Option()] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
) -> None:
    """Create or replace a preset."""
    from vigil.service.policies.presets import UploadOptions

    options = UploadOptions(
        moderation=moderation,
        policy=policy,
        context=parse_pairs(context or []),
        notification_url=notification_url,
        tags=tuple(tag or ()),
    )
    _run(lambda repo: repo.put(name, options, CLI_ACTOR))


@presets_app.command("list")
def list_presets() -> None:
    """Every preset."""
    _run(lambda repo: repo.all())


@presets_app.command("show")
def show(name: str) -> None:
    """One preset."""
    _run(lambda repo: repo.describe(name))


@presets_app.command("delete")
def delete(name: str) -> None:
    """Delete a preset."""
    _run(lambda repo: repo.delete(name))
