"""Detectors are plugins: found in the ``vigil.detectors`` entry-point group, built and loaded
one by one so that one that fails is reported and left out while the others serve."""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vigil.detectors.base import Detector
from vigil.errors import DetectorFailed, InvalidParameter

GROUP = "vigil.detectors"

# The detectors vigil ships. They are registered in vigil's own pyproject.toml under the same
# entry-point group a third party's plugin uses; this tuple only names them.
BUILTIN: tuple[str, ...] = ("nsfw", "nudity", "graphic", "gesture", "text", "objects", "symbols")

State = Literal["pending", "loaded", "failed"]


@dataclass
class DetectorSlot:
    """One enabled detector: built (or why not), then loaded (or why not)."""

    name: str
    detector: Detector | None
    state: State = "pending"
    error: str | None = None

    def fail(self, error: str) -> None:
        self.state, self.error = "failed", error

    def to_dict(self) -> dict[str, Any]:
        """The shape `/readyz` reports for each enabled detector."""
        shown: dict[str, Any] = {
            "name": self.name,
            "version": self.detector.version if self.detector is not None else None,
            "state": "loading" if self.state == "pending" else self.state,
        }
        if self.error is not None:
            shown["error"] = self.error
        return shown


def discover() -> dict[str, importlib.metadata.EntryPoint]:
    """Every registered detector plugin by name (the first one registered wins a name)."""
    found: dict[str, importlib.metadata.EntryPoint] = {}
    for entry in importlib.metadata.entry_points(group=GROUP):
        found.setdefault(entry.name, entry)
    return found


def build_one(
    entry: importlib.metadata.EntryPoint,
    threads: int,
    options: Mapping[str, Any],
    shared: Mapping[str, Any] | None = None,
) -> Detector:
    """The plugin's detector, created with ``threads`` and its ``options`` (not yet loaded).
    ``shared`` (``models_dir``: the VIGIL_MODELS_DIR setting) is passed to a detector whose
    constructor takes it, unless its options set it."""
    try:
        factory = entry.load()
    except Exception as exc:  # a plugin's import can fail in any way
        raise DetectorFailed(
            f"Detector {entry.name!r}: its plugin {entry.value!r} could not be imported: {exc}"
        ) from exc
    taken = _accepted(factory, shared or {})
    try:
        detector: Detector = factory(**{"threads": threads, **taken, **options})
    except DetectorFailed as exc:
        raise DetectorFailed(f"Detector {entry.name!r}: {exc.message}") from exc
    except Exception as exc:  # options it does not take, or a plugin's own error
        raise DetectorFailed(
            f"Detector {entry.name!r} could not be created with options {dict(options)}: {exc}"
        ) from exc
    return detector


def _accepted(factory: Any, shared: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``shared`` that ``factory`` names as parameters."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C factory: give it nothing extra
        return {}
    return {key: value for key, value in shared.items() if key in parameters}


def _entries(names: Sequence[str]) -> dict[str, importlib.metadata.EntryPoint]:
    known = discover()
    unknown = [name for name in names if name not in known]
    if unknown:
        # No plugin at all means vigil's own entry points are missing: a stale install.
        hint = ", ".join(sorted(known)) or f"none (reinstall vigil: {GROUP} entry points)"
        raise InvalidParameter(
            f"Unknown detector {', '.join(map(repr, unknown))}; known detectors are: {hint}."
        )
    return known


def build_detectors(
    names: Sequence[str],
    threads: int,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Detector]:
    """The detectors called ``names``, in that order, not yet loaded; any failure raises."""
    entries = _entries(names)
    return [build_one(entries[name], threads, _options(options, name)) for name in names]


def prepare(
    names: Sequence[str],
    threads: int,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    shared: Mapping[str, Any] | None = None,
) -> list[DetectorSlot]:
    """A slot per name, in order; a detector that cannot be built is a failed slot. An unknown
    name is a configuration mistake and is refused (``InvalidParameter``)."""
    entries = _entries(names)
    slots: list[DetectorSlot] = []
    for name in names:
        try:
            detector = build_one(entries[name], threads, _options(options, name), shared)
            slots.append(DetectorSlot(name, detector))
        except DetectorFailed as exc:
            slots.append(DetectorSlot(name, None, "failed", exc.message))
    return slots


def _options(options: Mapping[str, Mapping[str, Any]] | None, name: str) -> Mapping[str, Any]:
    return (options or {}).get(name, {})


def load_slots(slots: Sequence[DetectorSlot]) -> None:
    """Load every built, not yet loaded detector; a failure is kept in its slot."""
    for slot in slots:
        if slot.detector is None or slot.state != "pending":
            continue
        try:
            slot.detector.load()
        except DetectorFailed as exc:
            slot.fail(f"Detector {slot.name!r} failed to load: {exc.message}")
        except Exception as exc:  # a plugin's load() may raise anything (OSError, ...)
            slot.fail(f"Detector {slot.name!r} failed to load: {type(exc).__name__}: {exc}")
        else:
            slot.state = "loaded"


def load_all(detectors: Sequence[Detector]) -> None:
    """Load every detector's model, once, before the first image arrives."""
    for detector in detectors:
        detector.load()
