"""Reading and validating policy YAML; finding policies by name."""

from __future__ import annotations

import difflib
import hashlib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vigil import taxonomy
from vigil.errors import InvalidPolicy, PolicyNotFound
from vigil.policy.model import Band, Policy

BUILTIN_PACKAGE = "vigil.policy.policies"


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """A validated policy from YAML text; InvalidPolicy says what is wrong and where."""
    document = _load_yaml(text, source)
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidPolicy(f"{source}: 'name' must be a non-empty string")
    categories = document.get("categories", {})
    if not isinstance(categories, dict):
        raise InvalidPolicy(f"{source}: 'categories' must be a mapping of label name to band")
    unknown_keys = set(document) - {"name", "description", "categories"}
    if unknown_keys:
        raise InvalidPolicy(f"{source}: unknown top-level keys {sorted(unknown_keys)}")
    bands = {label: _parse_band(label, value, source) for label, value in categories.items()}
    return Policy(
        name=name,
        version=hashlib.sha256(text.encode()).hexdigest()[:12],
        description=str(document.get("description", "")),
        bands=bands,
    )


def _load_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidPolicy(f"{source}: bad YAML{where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise InvalidPolicy(f"{source}: bad YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidPolicy(f"{source}: a policy is a YAML mapping with 'name' and 'categories'")
    return document


def _parse_band(label: str, value: Any, source: str) -> Band:
    if not taxonomy.is_label(label):
        close = difflib.get_close_matches(label, list(taxonomy.LABELS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise InvalidPolicy(f"{source}: unknown label '{label}'{hint}")
    if value == "ignore":
        return Band(ignore=True)
    if not isinstance(value, dict) or not value or set(value) - {"review", "block"}:
        raise InvalidPolicy(
            f"{source}: '{label}' must be 'ignore' or a mapping with 'review' and/or 'block'"
        )
    review, block = (_threshold(label, key, value.get(key), source) for key in ("review", "block"))
    if review is not None and block is not None and review > block:
        raise InvalidPolicy(f"{source}: '{label}' has review {review} above block {block}")
    return Band(review=review, block=block)


def _threshold(label: str, key: str, value: Any, source: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise InvalidPolicy(f"{source}: '{label}.{key}' must be a number from 0 to 100")
    return float(value)


class PolicyStore:
    """Policies by name: the built-in ones, overridden by files in an optional directory."""

    def __init__(self, extra_dir: Path | None = None) -> None:
        self._policies: dict[str, Policy] = {}
        for entry in resources.files(BUILTIN_PACKAGE).iterdir():
            if entry.name.endswith(".yaml"):
                self._add(entry.read_text(encoding="utf-8"), f"built-in {entry.name}")
        if extra_dir is not None and extra_dir.is_dir():
            for path in sorted(extra_dir.glob("*.y*ml")):
                self._add(path.read_text(encoding="utf-8"), str(path))

    def _add(self, text: str, source: str) -> None:
        policy = parse_policy(text, source=source)
        self._policies[policy.name] = policy

    def get(self, name: str) -> Policy:
        try:
            return self._policies[name]
        except KeyError:
            known = ", ".join(sorted(self._policies))
            raise PolicyNotFound(f"no policy named '{name}' (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._policies)
