"""Where policy files come from: the built-in ones, then an optional directory."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

BUILTIN_PACKAGE = "vigil.policy.policies"


@dataclass(frozen=True)
class PolicySource:
    origin: str  # "built-in default.yaml" or the file's path, for messages
    text: str


def policy_sources(extra_dir: Path | None) -> list[PolicySource]:
    """Built-in policies first, then ``extra_dir``'s ``*.yaml``/``*.yml`` in name order, so a
    file there with a built-in's name replaces it."""
    found = [
        PolicySource(f"built-in {entry.name}", entry.read_text(encoding="utf-8"))
        for entry in sorted(resources.files(BUILTIN_PACKAGE).iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]
    if extra_dir is not None and extra_dir.is_dir():
        found += [
            PolicySource(str(path), path.read_text(encoding="utf-8"))
            for path in sorted(extra_dir.glob("*.y*ml"))
        ]
    return found
