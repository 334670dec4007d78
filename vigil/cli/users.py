"""`vigil users ...`: people who sign in to the review console."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from vigil.cli.output import CLI_ADMIN, print_result
from vigil.service.core.times import iso

users_app = typer.Typer(help="People who sign in to the review console.", no_args_is_help=True)


@users_app.command("create")
def create(
    username: str,
    role: Annotated[str, typer.Option(help="reviewer, lead or admin.")] = "reviewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a person; asks for the password twice (or reads it from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    print_result(lambda vigil: vigil.users.create(username, password, role))


@users_app.command("list")
def list_users() -> None:
    """Every person, with role and whether they are disabled."""
    print_result(lambda vigil: vigil.users.list())


@users_app.command("disable")
def disable(username: str) -> None:
    """Stop a person from signing in; signs them out everywhere."""
    print_result(lambda vigil: vigil.users.set_disabled(username, True))


@users_app.command("enable")
def enable(username: str) -> None:
    """Let a disabled person sign in again."""
    print_result(lambda vigil: vigil.users.set_disabled(username, False))


@users_app.command("sign-ins")
def sign_ins(
    username: Annotated[str | None, typer.Option(help="Only this username's events.")] = None,
    address: Annotated[str | None, typer.Option(help="Only this client address's.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first (at most 1000).")] = 100,
) -> None:
    """Recent console sign-in attempts (success, failure, locked, rate_limited) and unlocks."""
    print_result(
        lambda vigil: [
            {**event, "at": iso(event["at"])}
            for event in vigil.users.sign_in_events(CLI_ADMIN, username, address, limit)
        ]
    )
