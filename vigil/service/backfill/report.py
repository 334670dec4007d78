"""Where scan results go: a JSON Lines or Parquet report, and the tally printed at the end."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vigil.errors import InvalidParameter

REPORT_SUFFIXES = (".jsonl", ".parquet")


class Report:
    """One line per object. JSON Lines are written as they come; Parquet (pyarrow, from the
    ``vigil[ray]`` extra) is one table written at the end, with the decision's main fields as
    columns and the whole line as JSON beside them."""

    def __init__(self, path: Path) -> None:
        if path.suffix not in REPORT_SUFFIXES:
            raise InvalidParameter(f"--report must end in .jsonl or .parquet, not {path.name!r}")
        self.path = path
        self._rows: list[dict[str, Any]] = []
        self._file: IO[str] | None = None
        if path.suffix == ".parquet":
            _pyarrow()  # refused before any work, not after hours of it
        else:
            self._file = path.open("w", encoding="utf-8")

    def write(self, line: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(line) + "\n")
        else:
            self._rows.append(_columns(line))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            return
        pa, pq = _pyarrow()
        pq.write_table(pa.Table.from_pylist(self._rows, schema=_schema(pa)), self.path)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as missing:
        raise InvalidParameter(
            "a .parquet report needs pyarrow: pip install 'vigil[ray]'"
        ) from missing
    return pa, pq


def _schema(pa: Any) -> Any:
    names = ("file", "asset_id", "status", "action", "rule", "policy", "error_code", "line")
    return pa.schema([(name, pa.string()) for name in names])


def _columns(line: dict[str, Any]) -> dict[str, Any]:
    decision = line.get("decision") or {}
    return {
        "file": line.get("file"),
        "asset_id": line.get("asset_id"),
        "status": line.get("status"),
        "action": decision.get("action"),
        "rule": decision.get("rule"),
        "policy": decision.get("policy"),
        "error_code": (line.get("error") or {}).get("code"),
        "line": json.dumps(line),
    }


@dataclass
class Tally:
    """Counts of outcomes (an action, a rescan's new status, skipped) and the errors."""

    outcomes: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def add(self, line: dict[str, Any]) -> None:
        if "error" in line:
            self.errors.append(
                (line.get("file") or line.get("asset_id", ""), line["error"]["code"])
            )
        elif "skipped" in line:
            self.outcomes["skipped"] += 1
        elif "to" in line:
            self.outcomes[f"rescanned: {line['from']} -> {line['to']}"] += 1
        else:
            self.outcomes[(line.get("decision") or {}).get("action", line.get("status", "?"))] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": sum(self.outcomes.values()) + len(self.errors),
            "outcomes": dict(sorted(self.outcomes.items())),
            "errors": [{"item": item, "code": code} for item, code in self.errors],
        }
