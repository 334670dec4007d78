"""`vigil alerts ...`: alert e-mail rules from the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.output import print_result

if TYPE_CHECKING:
    from vigil.service.notices.alerts import AlertService

alerts_app = typer.Typer(
    help="Alert rules: e-mail when moderation finds a label.", no_args_is_help=True
)
CLI_ACTOR = "cli"


def _run(action: Callable[[AlertService], Any]) -> None:
    print_result(lambda vigil: action(vigil.alerts))


@alerts_app.command("add")
def add(
    name: Annotated[str, typer.Option(help="What the rule is for.")],
    label: Annotated[str, typer.Option(help="Taxonomy label; labels under it match too.")],
    to: Annotated[list[str], typer.Option(help="Recipient e-mail address, repeatable.")],
    min_confidence: Annotated[float, typer.Option(help="0-100.")] = 50.0,
    min_labels: Annotated[int, typer.Option(help="Fire at this many matching labels.")] = 1,
    min_segments: Annotated[
        int | None, typer.Option(help="Video: fire at this many flagged segments.")
    ] = None,
    event: Annotated[
        list[str] | None, typer.Option(help="Event type, repeatable; default: all decisions.")
    ] = None,
    enabled: Annotated[bool, typer.Option("--enabled/--disabled")] = True,
) -> None:
    """Create an alert rule."""
    from vigil.service.notices.alert_rules import AlertRule

    rule = AlertRule(
        name=name,
        label=label,
        recipients=tuple(to),
        min_confidence=min_confidence,
        min_labels=min_labels,
        min_segments=min_segments,
        events=tuple(event or ()),
        enabled=enabled,
    )
    _run(lambda alerts: alerts.create(rule, CLI_ACTOR))


@alerts_app.command("list")
def list_rules() -> None:
    """Every alert rule."""
    _run(lambda alerts: alerts.all())


@alerts_app.command("remove")
def remove(rule_id: str) -> None:
    """Delete an alert rule."""
    _run(lambda alerts: alerts.delete(rule_id))


@alerts_app.command("test")
def test(rule_id: str) -> None:
    """Send a sample alert e-mail for a rule now and print what the SMTP server answered."""
    _run(lambda alerts: alerts.test(rule_id))
