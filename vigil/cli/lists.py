"""`vigil lists ...`: perceptual-hash lists from the command line (docs/hashlists.md)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vigil.cli.output import CLI_ADMIN, fail, print_result
from vigil.errors import InvalidParameter, VigilError

if TYPE_CHECKING:
    from vigil.app import Vigil
    from vigil.service.hashlists.service import HashListService

lists_app = typer.Typer(
    help="Hash lists: known content matched by PDQ hash before the policy decides.",
    no_args_is_help=True,
)


def _run(action: Callable[[HashListService], Any]) -> None:
    print_result(lambda vigil: action(vigil.hashlists))


@lists_app.command("create")
def create(
    name: str,
    action: Annotated[str, typer.Option(help="block, review or allow.")] = "block",
    label: Annotated[
        str | None, typer.Option(help="Taxonomy label a match reports (default Known Content).")
    ] = None,
    distance: Annotated[
        int | None, typer.Option(help="Largest PDQ distance that matches (31; allow lists 10).")
    ] = None,
    description: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a list."""
    _run(lambda lists: lists.create(CLI_ADMIN, name, action, label, distance, description))


@lists_app.command("list")
def list_lists() -> None:
    """Every list with its action, label, distance and size."""
    _run(lambda lists: lists.lists(CLI_ADMIN))


@lists_app.command("show")
def show(
    name: str,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Items shown.")] = 100,
    after: Annotated[int, typer.Option(min=0, help="Show items after this item id.")] = 0,
) -> None:
    """A list and a page of its items."""
    _run(lambda lists: lists.show(CLI_ADMIN, name, limit, after))


@lists_app.command("add")
def add(
    name: str,
    files: Annotated[list[Path] | None, typer.Argument(help="Images to hash and add.")] = None,
    pdq: Annotated[list[str] | None, typer.Option(help="A hex PDQ hash; repeatable.")] = None,
    note: Annotated[str, typer.Option(help="Why these are listed.")] = "",
) -> None:
    """Add images (hashed here) or hex PDQ hashes to a list."""
    from vigil.service.hashlists.service import Upload

    uploads = [Upload(str(path), _read(path)) for path in files or []]
    hashes = list(pdq or [])

    def added(lists: HashListService) -> Any:
        result: dict[str, Any] = {}
        if uploads:
            result["images"] = lists.add_images(CLI_ADMIN, name, uploads, note)
        if hashes or not uploads:
            result["hashes"] = lists.add_hashes(CLI_ADMIN, name, hashes, note)
        return result

    _run(added)


@lists_app.command("import")
def import_file(
    name: str,
    file: Path,
    format: Annotated[str, typer.Option(help="auto, plain or csv.")] = "auto",
    note: Annotated[str, typer.Option(help="Kept with each hash that has no note.")] = "",
) -> None:
    """Import a hash file (one hash per line, or CSV) in one transaction: a bad line
    refuses the whole file, naming the line."""
    text = _read(file).decode("utf-8", errors="replace")
    _run(lambda lists: lists.import_text(CLI_ADMIN, name, text, format, note or file.name))


@lists_app.command("export")
def export(
    name: str,
    format: Annotated[str, typer.Option(help="plain or csv.")] = "plain",
    output: Annotated[Path | None, typer.Option(help="File to write; default stdout.")] = None,
) -> None:
    """Write a list's hashes, one per line (or CSV with notes and origins)."""

    def write(vigil: Vigil) -> None:
        lines = vigil.hashlists.export(CLI_ADMIN, name, format)
        if output is None:
            sys.stdout.writelines(lines)
            return
        with output.open("w", encoding="utf-8") as handle:
            handle.writelines(lines)

    _with_vigil(write)


@lists_app.command("remove")
def remove(name: str, pdq: str) -> None:
    """Remove one hash from a list."""
    _run(lambda lists: lists.remove(CLI_ADMIN, name, pdq))


@lists_app.command("delete")
def delete(name: str) -> None:
    """Delete a list and its hashes (not the built-in rejected and approved lists)."""
    _run(lambda lists: lists.delete(CLI_ADMIN, name))


@lists_app.command("rematch")
def rematch(
    name: str,
    since: Annotated[
        str | None, typer.Option(help="Only assets uploaded since (ISO date or time).")
    ] = None,
) -> None:
    """Match stored image assets against a list (hashes added later do not re-match by
    themselves) and report those that match."""
    start = _since(since)
    _run(lambda lists: lists.rematch(CLI_ADMIN, name, start))


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(InvalidParameter(f"--since takes an ISO date or time, not '{value}'"))
    return moment if moment.tzinfo else moment.astimezone()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(VigilError(f"cannot read {path}: {exc.strerror}", code="FileUnreadable"))


def _with_vigil(action: Callable[[Vigil], None]) -> None:
    """Like ``print_result``, for a command that prints its own output."""
    from vigil.app import build, prepare_database
    from vigil.settings import load_settings

    try:
        settings = load_settings()
        prepare_database(settings)
        vigil = build(settings)
        try:
            action(vigil)
        finally:
            vigil.close()
    except VigilError as exc:
        fail(exc)
