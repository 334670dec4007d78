"""`vigil policy ...`: versions, activation, rollback and simulation from the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.output import fail, print_result
from vigil.errors import InvalidParameter

if TYPE_CHECKING:
    from vigil.app import Vigil

policy_app = typer.Typer(
    help="Policies: versions, activation, rollback, simulation.", no_args_is_help=True
)
CLI_ACTOR = "cli"


def _run(action: Callable[[Any], Any]) -> None:
    """Call ``action`` with the policy repository and print its result as JSON."""
    print_result(lambda vigil: action(vigil.policies))


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


@policy_app.command("simulate")
def simulate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    since: Annotated[
        str | None, typer.Option(help="Only assets since: 12h, 30d, 2w or an ISO date.")
    ] = None,
    against: Annotated[
        str | None, typer.Option(help="Compare with this policy. Default: the file's name.")
    ] = None,
) -> None:
    """What a policy file would decide on the stored assets, against the active version
    (nothing is stored). JSON on stdout, a summary on stderr."""
    from vigil.service.policies.simulation import parse_since, simulate_text

    text = file.read_text(encoding="utf-8")

    def action(vigil: Vigil) -> dict[str, Any]:
        report = simulate_text(
            vigil.db,
            vigil.policies,
            text,
            against=against,
            since=parse_since(since),
            origin=str(file),
        )
        typer.echo(report.summary(), err=True)
        return report.to_dict()

    print_result(action)


@policy_app.command("suggest")
def suggest(
    target_precision: Annotated[
        float, typer.Option(help="Share of blocked assets people must have rejected.")
    ] = 0.95,
    target_recall: Annotated[
        float, typer.Option(help="Share of rejected assets the review threshold must reach.")
    ] = 0.95,
    since: Annotated[
        str | None, typer.Option(help="Only assets since: 12h, 30d, 2w or an ISO date.")
    ] = None,
) -> None:
    """Block and review thresholds per category, from people's final decisions."""
    from vigil.service.policies import suggestions
    from vigil.service.policies.simulation import parse_since

    def action(vigil: Vigil) -> dict[str, Any]:
        start = parse_since(since)
        found = suggestions.suggest(vigil.db, target_precision, start, target_recall=target_recall)
        return suggestions.suggestions_view(
            found, target_precision=target_precision, target_recall=target_recall, since=start
        )

    print_result(action)


@policy_app.command("shadow")
def shadow(
    name: str,
    version: Annotated[int | None, typer.Argument(help="Version to shadow.")] = None,
    stop: Annotated[bool, typer.Option("--stop", help="Stop shadowing.")] = False,
) -> None:
    """Evaluate a version beside the active one on live traffic, never acting on it."""
    if (version is not None) != stop:
        _run(lambda repo: repo.set_shadow(name, version, CLI_ACTOR))
    else:
        fail(InvalidParameter("give a VERSION to shadow, or --stop"))


@policy_app.command("shadow-report")
def shadow_report_command(
    name: str, version: Annotated[int | None, typer.Option(help="One shadow version.")] = None
) -> None:
    """Where the shadow's would-be decisions differ from those acted on."""
    from vigil.service.policies.shadow import shadow_report

    _run(lambda repo: shadow_report(repo.db, name, version))
