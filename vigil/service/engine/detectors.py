"""What `vigil detectors` reports: every installed detector plugin, enabled or not, and
(when asked) whether it loads."""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Any

from vigil.detectors import providers
from vigil.detectors.registry import DetectorSlot, build_one, discover, load_slots
from vigil.errors import DetectorFailed
from vigil.service.engine.detector_demand import is_on_demand
from vigil.settings import Settings

NOT_INSTALLED = "no detector plugin of this name is installed"


@dataclass(frozen=True)
class DetectorInfo:
    """One detector as listed. ``state`` is ``loaded`` or ``failed`` after a load was tried,
    ``not loaded`` when it was not (a listing alone never loads models)."""

    name: str
    version: str | None
    labels: tuple[str, ...]
    licence: str
    enabled: bool
    state: str
    error: str | None = None
    on_demand: bool = False  # runs only where the policy acts on its labels

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "labels": list(self.labels),
            "licence": self.licence,
            "enabled": self.enabled,
            "on_demand": self.on_demand,
            "state": self.state,
            "error": self.error,
        }


def list_detectors(settings: Settings, *, load: bool = False) -> list[DetectorInfo]:
    """Every installed detector by name, then enabled names that no plugin provides; built
    on the settings' providers (versions and precisions as they would serve)."""
    providers.use(settings.execution_providers)
    entries = discover()
    listed = [describe(entry, settings, load=load) for _, entry in sorted(entries.items())]
    missing = [name for name in settings.detectors if name not in entries]
    absent = [DetectorInfo(name, None, (), "", True, "failed", NOT_INSTALLED) for name in missing]
    return listed + absent


def describe(
    entry: importlib.metadata.EntryPoint, settings: Settings, *, load: bool
) -> DetectorInfo:
    """One plugin's metadata, from a detector built with the settings' options; loaded too
    when ``load``."""
    enabled = entry.name in settings.detectors
    options = settings.detector_options.get(entry.name, {})
    try:
        shared = {"models_dir": str(settings.resolved_models_dir)}
        detector = build_one(entry, settings.inference_threads, options, shared)
    except DetectorFailed as exc:
        labels, licence = _static(entry)
        return DetectorInfo(entry.name, None, labels, licence, enabled, "failed", exc.message)
    labels, licence = _metadata(detector)
    slot = DetectorSlot(entry.name, detector)
    if load:
        load_slots([slot])
    state = "not loaded" if slot.state == "pending" else slot.state
    return DetectorInfo(
        entry.name,
        detector.version,
        labels,
        licence,
        enabled,
        state,
        slot.error,
        is_on_demand(detector),
    )


def _static(entry: importlib.metadata.EntryPoint) -> tuple[tuple[str, ...], str]:
    """Labels and licence from the plugin's class attributes, when it can be imported."""
    try:
        factory: object = entry.load()
    except Exception:  # already reported as the build failure
        return (), ""
    return _metadata(factory)


def _metadata(found: object) -> tuple[tuple[str, ...], str]:
    """A detector's ``labels`` and ``licence``; a plugin written before vigil asked for them
    is listed with none rather than refused."""
    return tuple(getattr(found, "labels", ())), str(getattr(found, "licence", "unknown"))
