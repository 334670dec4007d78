"""Tallying a folder scan: counts per action and per top-level category, refused files."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from vigil import taxonomy
from vigil.errors import VigilError
from vigil.labels import above
from vigil.service.engine.moderation import ModerationResult


@dataclass
class ScanSummary:
    actions: Counter[str] = field(default_factory=Counter)
    categories: Counter[str] = field(default_factory=Counter)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: str, outcome: ModerationResult | VigilError, floor: float) -> None:
        if isinstance(outcome, VigilError):
            self.refused.append((path, outcome.code))
            return
        self.actions[outcome.decision.action] += 1
        tops = {taxonomy.top_level(label.name) for label in above(outcome.labels, floor)}
        self.categories.update(tops)  # a file counts once per category it touches

    @property
    def total(self) -> int:
        return sum(self.actions.values()) + len(self.refused)

    def print(self, console: Console) -> None:
        console.print(f"scanned {self.total} file(s)")
        actions = Table(title="decisions")
        actions.add_column("action")
        actions.add_column("files", justify="right")
        for action in ("allow", "review", "block"):
            actions.add_row(action, str(self.actions[action]))
        actions.add_row("refused", str(len(self.refused)))
        console.print(actions)
        categories = Table(title="files per top-level category")
        categories.add_column("category")
        categories.add_column("files", justify="right")
        for name, count in self.categories.most_common():
            categories.add_row(name, str(count))
        console.print(categories)
        for path, code in self.refused:
            console.print(f"refused {path}: {code}")
