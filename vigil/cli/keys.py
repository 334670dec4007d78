"""`vigil keys ...`: API keys and AWS key pairs (docs/keys.md). Whoever runs the CLI on the
server is its admin: changes are audited as actor ``cli``. A new secret is printed alone on
the last line of standard output, and never again."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from vigil.cli import quick_exit
from vigil.cli.gc_pause import paused_gc
from vigil.cli.output import CLI_ADMIN, OutputFormat, err, fail
from vigil.errors import VigilError

if TYPE_CHECKING:
    from datetime import datetime

    from vigil.service.access.manage import IssuedKey, KeyService, KeyView

T = TypeVar("T")

keys_app = typer.Typer(help="API keys and AWS key pairs (docs/keys.md).", no_args_is_help=True)

ExpiresIn = Annotated[
    str | None, typer.Option("--expires-in", help="Stop working after 30d, 12h, 90m or 2w.")
]


def _run(action: Callable[[KeyService], T], *, first_admin: bool = False) -> T:
    """Migrate the database, call ``action`` with the key service; a refusal exits 2.
    ``first_admin`` creates the first admin key too, as `vigil init` does."""
    quick_exit.allow()  # a keys command prints and writes nothing but the database, committed
    try:
        with paused_gc():  # importing and preparing: vigil/cli/gc_pause.py
            from vigil.app import key_service, prepare_database, prepare_storage
            from vigil.settings import load_settings
            from vigil.storage.db import Database

            settings = load_settings()
            (prepare_storage if first_admin else prepare_database)(settings)
            db = Database(settings.resolved_database_url)
            try:
                return action(key_service(db, settings))
            finally:
                db.dispose()
    except VigilError as exc:
        fail(exc)


@keys_app.command("create")
def create(
    role: Annotated[str, typer.Option(help="admin, uploader or reviewer.")],
    name: Annotated[str, typer.Option(help="A note to tell keys apart.")] = "",
    aws: Annotated[
        bool, typer.Option("--aws", help="An AWS access key pair for the Rekognition API.")
    ] = False,
    expires_in: ExpiresIn = None,
    grant: Annotated[
        list[str] | None, typer.Option("--grant", help="A grant to give it: skip-moderation.")
    ] = None,
) -> None:
    """Create an API key; the key is printed alone on the last line (with --aws: the access
    key id and the secret, separated by one space)."""
    issued = _run(
        lambda keys: keys.create(
            CLI_ADMIN, role, name, aws=aws, expires_in=expires_in, grants=grant or ()
        ),
        first_admin=True,
    )
    kind = "AWS access key pair (id, secret)" if aws else "key"
    err.print(f"created {issued.key.role} {kind} {issued.key.id}{_expiry(issued.key)}")
    err.print("it is shown once:")
    print(_secret_line(issued))


@keys_app.command("list")
def list_keys(
    output: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Every key: id, kind, name, role, grants, status, created, expiry, last used."""
    views = _run(lambda keys: keys.list_keys(CLI_ADMIN))
    if output is OutputFormat.JSON:
        print(json.dumps([view.to_dict() for view in views], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="keys")
    for column in ("Id", "Kind", "Name", "Role", "Grants", "Status", "Created", "Expires"):
        table.add_column(column)
    table.add_column("Last used")
    for view in views:
        shown = view.to_dict()
        table.add_row(
            view.id + "".join(f"\n{pair.access_key_id}" for pair in view.access_keys),
            view.kind,
            view.name,
            view.role,
            ", ".join(view.grants),
            view.status,
            *(_minute(shown[name]) for name in ("created_at", "expires_at", "last_used_at")),
        )
    Console(width=200).print(table)


@keys_app.command("show")
def show(key_id: Annotated[str, typer.Argument(help="A key id or AWS access key id.")]) -> None:
    """One key, as JSON."""
    _print(_run(lambda keys: keys.get(CLI_ADMIN, key_id)))


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="A key id or AWS access key id.")]) -> None:
    """Revoke a key (and its AWS pairs): refused from the next request on, in every process."""
    _print(_run(lambda keys: keys.revoke(CLI_ADMIN, key_id)))


@keys_app.command("rotate")
def rotate(
    key_id: Annotated[str, typer.Argument(help="A key id or AWS access key id.")],
    overlap_hours: Annotated[
        float | None,
        typer.Option(help="How long the old secret keeps working (default: the setting)."),
    ] = None,
    expires_in: ExpiresIn = None,
) -> None:
    """A new secret (for an AWS key, a new pair), printed alone on the last line; the old one
    keeps working for the overlap (VIGIL_KEY_ROTATION_OVERLAP_HOURS), then is refused."""
    issued = _run(
        lambda keys: keys.rotate(
            CLI_ADMIN, key_id, overlap_hours=overlap_hours, expires_in=expires_in
        )
    )
    until = _old_secret_end(issued.key)
    ends = f"until {until.isoformat()}" if until else "no longer (no overlap)"
    err.print(f"rotated {issued.key.id}{_expiry(issued.key)}; the old secret works {ends}")
    err.print("the new one is shown once:")
    print(_secret_line(issued))


@keys_app.command("signing-secret")
def signing_secret(
    key_id: Annotated[str, typer.Argument(help="A key id or AWS access key id.")],
) -> None:
    """The secret that signs the notification_url deliveries of the key's uploads (v2,
    docs/webhooks.md), printed alone."""
    print(_run(lambda keys: keys.signing_secret(CLI_ADMIN, key_id))["secret"])


@keys_app.command("grant")
def grant(
    key_id: Annotated[str, typer.Argument(help="A key id or AWS access key id.")],
    name: Annotated[str, typer.Argument(help="The grant: skip-moderation.")],
) -> None:
    """Give a key a grant (skip-moderation: it may upload with moderation=none)."""
    _print(_run(lambda keys: keys.grant(CLI_ADMIN, key_id, name)))


@keys_app.command("revoke-grant")
def revoke_grant(
    key_id: Annotated[str, typer.Argument(help="A key id or AWS access key id.")],
    name: Annotated[str, typer.Argument(help="The grant: skip-moderation.")],
) -> None:
    """Take a grant from a key."""
    _print(_run(lambda keys: keys.revoke_grant(CLI_ADMIN, key_id, name)))


@keys_app.command("events")
def events(key_id: Annotated[str, typer.Argument(help="A key id or AWS access key id.")]) -> None:
    """The key's audit (create, revoke, rotate, grant, revoke-grant), oldest first, as JSON."""
    found = _run(lambda keys: keys.events(CLI_ADMIN, key_id))
    print(json.dumps([event.to_dict() for event in found], indent=2))


def _print(view: KeyView) -> None:
    print(json.dumps(view.to_dict(), indent=2))


def _secret_line(issued: IssuedKey) -> str:
    if issued.access_key_id is None:
        return issued.secret
    return f"{issued.access_key_id} {issued.secret}"


def _expiry(view: KeyView) -> str:
    return f", expires {view.expires_at.isoformat()}" if view.expires_at else ""


def _old_secret_end(view: KeyView) -> datetime | None:
    """When the secret (or the AWS pairs) a rotation replaced stop working."""
    ends = [pair.expires_at for pair in view.access_keys if pair.expires_at is not None]
    return view.previous_secret_valid_until or (max(ends) if ends else None)


def _minute(value: str | None) -> str:
    return "-" if value is None else value[:16].replace("T", " ")
