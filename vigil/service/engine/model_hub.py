"""A clip bundle built from a Hugging Face repository that holds ONNX exports of both CLIP
towers: the files downloaded with ``huggingface_hub`` at a fixed revision, each checked against
its sha256 by vigil (the hub client does not), and the prompt embeddings computed here with the
text tower, so the bundle has exactly the layout the clip detector reads (docs/clip.md)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

from vigil.detectors import clip_prompts
from vigil.detectors.clip_model import ClipModel
from vigil.errors import DetectorFailed, ModelDownloadFailed
from vigil.service.engine import clip_text
from vigil.service.engine.model_manifest import (
    FileRecord,
    Manifest,
    check,
    read_manifest,
    write_manifest,
)

if TYPE_CHECKING:
    from types import ModuleType

PREPROCESSOR = "preprocessor_config.json"
MISSING_HUB = "the huggingface_hub package is not installed: pip install 'vigil[clip]'"


@dataclass(frozen=True)
class HubSource:
    """Where a bundle's files are in a hub repository (paths as in the repository)."""

    name: str  # the bundle's folder in the models directory
    repo: str
    revision: str  # a commit sha pins the bytes; a branch name follows the branch
    vision: str = "onnx/vision_model.onnx"
    text: str = "onnx/text_model.onnx"
    tokenizer: str = "tokenizer.json"
    preprocessor: str | None = PREPROCESSOR  # image size, mean and std; None: CLIP's
    sha256: Mapping[str, str] = field(default_factory=dict)  # pinned, by repository path
    description: str = ""
    licence: str = ""

    def files(self) -> dict[str, str]:
        """The bundle's file name for each repository path it downloads."""
        found = {
            self.vision: "image.onnx",
            self.text: clip_text.TEXT_TOWER,
            self.tokenizer: clip_text.TOKENIZER,
        }
        if self.preprocessor:
            found[self.preprocessor] = PREPROCESSOR
        return found


def require_packages() -> None:
    """Refuse before any download when the ``vigil[clip]`` extra is missing, rather than after
    half a gigabyte has arrived."""
    _hub()
    try:
        import tokenizers  # noqa: F401
    except ImportError as exc:
        raise ModelDownloadFailed(f"Cannot pull: {clip_text.MISSING_TOKENIZERS}.") from exc


def build(
    source: HubSource,
    staging: Path,
    previous: Path,
    *,
    timeout: float,
    endpoint: str | None,
    prompts: Sequence[str],
) -> Path:
    """The bundle of ``source`` built in ``staging`` (a fresh folder); returns its folder.
    ``previous`` is the installed copy, if any: its manifest supplies the checksums recorded at
    the first download, and its prompts are embedded again, with the shipped ones and
    ``prompts``."""
    require_packages()
    bundle = staging / "bundle"
    bundle.mkdir()
    old = read_manifest(previous)
    recorded = old.sha256_of(source.repo, source.revision) if old else {}
    records = [
        _fetch(source, path, name, staging, bundle, recorded, timeout, endpoint)
        for path, name in source.files().items()
    ]
    _write_config(bundle)
    # The shipped prompts always: the detector refuses to load without their rows.
    wanted = [*clip_prompts.all_prompts(), *prompts, *clip_text.stored_prompts(previous)]
    clip_text.embed_prompts(bundle, list(dict.fromkeys(wanted)))
    check_towers(bundle)
    write_manifest(bundle, Manifest(source.repo, source.revision, tuple(records)))
    return bundle


def _fetch(
    source: HubSource,
    path: str,
    name: str,
    staging: Path,
    bundle: Path,
    recorded: Mapping[str, str],
    timeout: float,
    endpoint: str | None,
) -> FileRecord:
    """One file downloaded, checked against its pinned or recorded sha256, moved into the
    bundle as ``name``."""
    local = download(source, path, staging, timeout, endpoint)
    pinned = path in source.sha256
    expected = source.sha256.get(path) or recorded.get(path)
    digest = check(local, expected, pinned, file_url(source, path, endpoint))
    target = bundle / name
    shutil.move(local, target)
    return FileRecord(path, name, digest, target.stat().st_size, pinned)


def download(
    source: HubSource, path: str, staging: Path, timeout: float, endpoint: str | None
) -> Path:
    """``path`` of ``source`` downloaded under ``staging``. Its own cache folder there: a pull
    neither reads nor fills the user's hub cache, and leaves nothing behind on failure."""
    hub = _hub()
    try:
        local = hub.hf_hub_download(
            source.repo,
            path,
            revision=source.revision,
            local_dir=staging / "download",
            cache_dir=staging / "hub-cache",
            endpoint=endpoint,
            etag_timeout=timeout,
        )
    except Exception as exc:  # the hub client raises its own, httpx's and OS errors alike
        raise ModelDownloadFailed(
            f"Could not download {file_url(source, path, endpoint)}: {_reason(exc)}. {_advice(exc)}"
        ) from exc
    return Path(str(local))


def _advice(exc: Exception) -> str:
    """What to do: an error that carries a response means the hub was reached and said no."""
    response = getattr(exc, "response", None)
    if response is not None:
        return (
            f"The hub answered {getattr(response, 'status_code', '?')}: check the repository, "
            "the revision and the file's path (a private or gated repository needs HF_TOKEN)."
        )
    return (
        "`vigil models pull` needs internet access to that host (or HF_ENDPOINT set to a hub "
        "mirror it can reach); without it copy a bundle folder in by hand (docs/clip.md)."
    )


def file_url(source: HubSource, path: str, endpoint: str | None) -> str:
    return str(_hub().hf_hub_url(source.repo, path, revision=source.revision, endpoint=endpoint))


def check_towers(bundle: Path) -> None:
    """The bundle loaded as the clip detector loads it, and one blank image embedded: its
    width must be the text embeddings' (two towers of one model), or the pull is refused."""
    model = ClipModel(bundle, "clip", threads=0)
    model.load()
    size = model.config.image_size
    image = model.embed([Image.new("RGB", (size, size))])
    width = len(next(iter(model.text.values())))
    if image.shape != (1, width):
        raise DetectorFailed(
            f"The image tower makes embeddings of shape {image.shape[1:]} but the text tower "
            f"{width}-wide ones: the two files are not the towers of one CLIP model."
        )


def _write_config(bundle: Path) -> None:
    """``config.json`` from the repository's preprocessor config (Hugging Face's names; kept
    beside it as downloaded); without one the detector uses OpenAI CLIP's values."""
    source = bundle / PREPROCESSOR
    if not source.is_file():
        return
    try:
        found = json.loads(source.read_text())
    except (OSError, ValueError) as exc:
        raise DetectorFailed(f"Could not read {PREPROCESSOR}: {exc}") from exc
    (bundle / "config.json").write_text(json.dumps(clip_config(found), indent=2) + "\n")


def clip_config(preprocessor: Mapping[str, Any]) -> dict[str, Any]:
    """The clip detector's ``config.json`` values found in a Hugging Face preprocessor config."""
    config: dict[str, Any] = {}
    size = preprocessor.get("crop_size") or preprocessor.get("size")
    if isinstance(size, Mapping):
        size = size.get("height") or size.get("shortest_edge")
    if isinstance(size, int):
        config["image_size"] = size
    for ours, theirs in (("mean", "image_mean"), ("std", "image_std")):
        if isinstance(preprocessor.get(theirs), list):
            config[ours] = preprocessor[theirs]
    return config


def _hub() -> ModuleType:
    try:
        import huggingface_hub
    except ImportError as exc:
        raise ModelDownloadFailed(f"Cannot pull: {MISSING_HUB}.") from exc
    return huggingface_hub


def _reason(exc: BaseException) -> str:
    """The first line of the hub client's message (the rest repeats the URL and advice), with
    that of the error underneath it, which is often the useful one ("Connection refused")."""
    reason = _first_line(exc)
    cause = exc.__cause__
    while cause is not None and cause.__cause__ is not None:
        cause = cause.__cause__
    return f"{reason} ({_first_line(cause)})" if cause is not None else reason


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(exc).__name__
