"""`vigil webhooks ...`: subscriptions, the delivery log and redelivery from the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.output import CLI_ADMIN, print_result

if TYPE_CHECKING:
    from vigil.service.notices.webhooks import WebhookService

webhooks_app = typer.Typer(
    help="Webhooks: subscriptions, the delivery log, redelivery.", no_args_is_help=True
)
# Whoever can run the CLI can open the database itself, so it acts as an admin.


def _run(action: Callable[[WebhookService], Any]) -> None:
    print_result(lambda vigil: action(vigil.webhooks))


@webhooks_app.command("add")
def add(
    url: str,
    event: Annotated[list[str], typer.Option(help="Event type; repeatable.")],
    description: Annotated[str, typer.Option(help="A note to tell subscriptions apart.")] = "",
) -> None:
    """Subscribe URL to event types; prints the subscription with its secret (shown once)."""
    _run(lambda service: service.create(CLI_ADMIN, url, event, description))


@webhooks_app.command("list")
def list_webhooks() -> None:
    """Every active subscription."""
    _run(lambda service: service.subscriptions(CLI_ADMIN))


@webhooks_app.command("remove")
def remove(webhook_id: str) -> None:
    """Remove a subscription; its deliveries stay in the log."""
    _run(lambda service: service.remove(CLI_ADMIN, webhook_id))


@webhooks_app.command("deliveries")
def deliveries(
    status: Annotated[str | None, typer.Option(help="pending, succeeded or failed.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """The delivery log, newest first."""
    _run(lambda service: service.deliveries(CLI_ADMIN, status=status, limit=limit))


@webhooks_app.command("show")
def show(delivery_id: str) -> None:
    """One delivery with its payload and every attempt."""
    _run(lambda service: service.delivery(CLI_ADMIN, delivery_id))


@webhooks_app.command("redeliver")
def redeliver(delivery_id: str) -> None:
    """Send a delivery again (same payload, new signature timestamp)."""
    _run(lambda service: service.redeliver(CLI_ADMIN, delivery_id))


@webhooks_app.command("secret")
def secret() -> None:
    """The secret that signs deliveries to per-upload notification_urls."""
    _run(lambda service: service.secret(CLI_ADMIN))
