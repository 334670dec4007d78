"""What every `vigil` command shares for talking to people: stderr and refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from vigil.errors import InvalidParameter, VigilError
from vigil.service.access.principal import Principal, Role

if TYPE_CHECKING:
    from rich.console import Console

    from vigil.app import Vigil
    from vigil.policy.model import Policy
    from vigil.service.engine.moderation import ModerationEngine


# The principal CLI commands act as: whoever runs `vigil` on the server is its admin.
CLI_ADMIN = Principal(key_id="cli", role=Role.ADMIN)


class OutputFormat(StrEnum):
    JSON = "json"
    TABLE = "table"


class StderrConsole:
    """rich's console for stderr, made on first use: a command that prints only JSON, such as
    `vigil moderate`, then imports rich only to report a refusal (docs/speed.md, "CLI
    start-up"; tests/test_cli_imports.py)."""

    def __init__(self) -> None:
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            # soft_wrap: messages are not broken at the terminal width, so they can be grepped.
            self._console = Console(stderr=True, soft_wrap=True)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        self.console.print(*objects, **options)


err = StderrConsole()


def fail(exc: VigilError) -> NoReturn:
    """Print a refusal with its stable code and exit with status 2."""
    from rich.markup import escape

    # The message is escaped: a refusal that names `vigil[clip]` must not lose its brackets.
    shown = escape(f"{exc.code}: {exc.message}")
    err.print(f"[red]error[/red] {shown}", markup=True, highlight=False)
    raise typer.Exit(2)


def parse_pairs(pairs: list[str], option: str = "--context") -> dict[str, str]:
    """``KEY=VALUE`` options as a dict; a malformed one is refused."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(InvalidParameter(f"{option} takes KEY=VALUE, got '{pair}'"))
        parsed[key.strip()] = value.strip()
    return parsed


def print_result(action: Callable[[Vigil], Any]) -> None:
    """Prepare the database, call ``action`` with the services, print its result as JSON;
    a refusal prints its code and exits 2."""
    from vigil.app import build, prepare_database
    from vigil.settings import load_settings

    try:
        settings = load_settings()
        prepare_database(settings)
        vigil = build(settings)
        try:
            result = action(vigil)
        finally:
            vigil.close()
    except VigilError as exc:
        fail(exc)
    print(json.dumps(result, indent=2))


def loaded_engine(policy_name: str | None) -> tuple[ModerationEngine, Policy]:
    """Loaded detectors and the active version of the policy, from the data directory (for
    commands that moderate files in this process)."""
    from vigil.app import moderation_engine
    from vigil.settings import load_settings

    try:
        return moderation_engine(load_settings(), policy_name)
    except VigilError as exc:
        fail(exc)
