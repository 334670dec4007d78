"""Hash-list files: the plain one-hash-per-line form and CSV, read and written.

- **plain**: a 64-character hex PDQ hash per line; blank lines and ``#`` comments are skipped.
- **csv** with a header: the hash is in the column called ``hash``, ``pdq``, ``signal``,
  ``signal_value``, ``hash_value`` or ``indicator`` (ThreatExchange and hash-sharing exports);
  ``quality`` and ``note`` (or ``description``, ``tags``) are kept when present; a row whose
  ``signal_type``, ``hash_type`` or ``type`` names another hash (MD5, ...) is skipped.
- **csv** without a header: ``hash,quality,name`` rows, as PDQ's reference hasher prints them.

A bad line is refused with its number, and nothing of the file is imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from vigil.errors import InvalidHash, InvalidParameter
from vigil.service.hashlists.pdq import parse_hex
from vigil.service.hashlists.repository import NewItem

HASH_COLUMNS = ("hash", "pdq", "signal", "signal_value", "hash_value", "indicator")
NOTE_COLUMNS = ("note", "description", "tags", "name")
TYPE_COLUMNS = ("signal_type", "hash_type", "type")
PDQ_TYPES = frozenset({"pdq", "hash_pdq", "pdq_hash", "pdqsignal"})
SHOWN_ERRORS = 20  # bad lines named in one refusal
CSV_HEADER = ("hash", "quality", "note", "added_by", "added_at", "source_asset")


class FileFormat(StrEnum):
    AUTO = "auto"
    PLAIN = "plain"
    CSV = "csv"


@dataclass(frozen=True)
class Parsed:
    items: list[NewItem]
    skipped: int  # rows of other hash types


def parse_format(value: str) -> FileFormat:
    try:
        return FileFormat(value)
    except ValueError:
        raise InvalidParameter(f"format must be auto, plain or csv, not '{value}'") from None


def read(text: str, form: FileFormat = FileFormat.AUTO, note: str = "") -> Parsed:
    """The hashes of a list file; ``InvalidHash`` naming every bad line (up to 20)."""
    chosen = _detect(text) if form is FileFormat.AUTO else form
    if chosen is FileFormat.PLAIN:
        return _plain(text, note)
    return _csv(text, note)


def write(items: Iterable[dict[str, object]], form: FileFormat) -> Iterator[str]:
    """Lines of an export (``repository.item_view`` dicts), each ending in a newline."""
    if form is FileFormat.CSV:
        yield _csv_line(CSV_HEADER)
        for item in items:
            yield _csv_line(
                [
                    item["pdq"],
                    "" if item["quality"] is None else item["quality"],
                    item["note"],
                    item["added_by"],
                    item["added_at"],
                    item["source_asset_id"] or "",
                ]
            )
        return
    for item in items:
        yield f"{item['pdq']}\n"


def _detect(text: str) -> FileFormat:
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return FileFormat.CSV if "," in line else FileFormat.PLAIN
    return FileFormat.PLAIN


def _plain(text: str, note: str) -> Parsed:
    items: list[NewItem] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip()
        if not value or value.startswith("#"):
            continue
        try:
            items.append(NewItem(parse_hex(value).hex(), note=note))
        except InvalidHash as bad:
            errors.append(f"line {number}: {bad.message}")
    _refuse(errors)
    return Parsed(items, 0)


def _csv(text: str, note: str) -> Parsed:
    rows = [
        (number, row)
        for number, row in enumerate(csv.reader(io.StringIO(text)), start=1)
        if row and any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")
    ]
    if not rows:
        return Parsed([], 0)
    header = [cell.strip().lower() for cell in rows[0][1]]
    if any(name in HASH_COLUMNS for name in header):
        return _with_header(header, rows[1:], note)
    return _headerless(rows, note)


def _with_header(header: list[str], rows: list[tuple[int, list[str]]], note: str) -> Parsed:
    column = next(header.index(name) for name in HASH_COLUMNS if name in header)
    quality = header.index("quality") if "quality" in header else None
    notes = next((header.index(name) for name in NOTE_COLUMNS if name in header), None)
    kind = next((header.index(name) for name in TYPE_COLUMNS if name in header), None)
    items: list[NewItem] = []
    errors: list[str] = []
    skipped = 0
    for number, row in rows:
        if kind is not None and _cell(row, kind).lower() not in PDQ_TYPES:
            skipped += 1
            continue
        try:
            items.append(_item(row, number, column, quality, notes, note))
        except InvalidHash as bad:
            errors.append(bad.message)
    _refuse(errors)
    return Parsed(items, skipped)


def _headerless(rows: list[tuple[int, list[str]]], note: str) -> Parsed:
    items: list[NewItem] = []
    errors: list[str] = []
    for number, row in rows:
        try:
            items.append(_item(row, number, 0, 1 if len(row) > 1 else None, None, note))
            if len(row) > 2 and row[2].strip():
                items[-1] = NewItem(items[-1].pdq, items[-1].quality, row[2].strip())
        except InvalidHash as bad:
            errors.append(bad.message)
    _refuse(errors)
    return Parsed(items, 0)


def _item(
    row: list[str],
    number: int,
    column: int,
    quality: int | None,
    notes: int | None,
    note: str,
) -> NewItem:
    try:
        digest = parse_hex(_cell(row, column))
    except InvalidHash as bad:
        raise InvalidHash(f"line {number}: {bad.message}") from None
    score = _quality(_cell(row, quality), number) if quality is not None else None
    return NewItem(digest.hex(), score, _cell(row, notes) if notes is not None else note)


def _quality(value: str, number: int) -> int | None:
    if not value:
        return None
    if not value.isdigit() or int(value) > 100:
        raise InvalidHash(f"line {number}: quality '{value}' is not a whole number 0-100")
    return int(value)


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index].strip()


def _refuse(errors: list[str]) -> None:
    if not errors:
        return
    shown = "; ".join(errors[:SHOWN_ERRORS])
    more = f" (and {len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
    raise InvalidHash(f"{len(errors)} bad line(s), nothing imported: {shown}{more}")


def _csv_line(cells: Iterable[object]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(list(cells))
    return out.getvalue()
