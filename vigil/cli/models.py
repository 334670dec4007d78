"""`vigil models pull|embed-prompts|list`: model bundles in the models directory (the clip
detector's)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vigil.cli.output import fail
from vigil.errors import InvalidParameter, VigilError

# vigil.service.engine.model_hub's PREPROCESSOR, written out so that `vigil --help` does not
# import the clip stack (tests/test_cli_imports.py checks they agree).
PREPROCESSOR = "preprocessor_config.json"

models_app = typer.Typer(help="Download and list model bundles (VIGIL_MODELS_DIR).")

PromptOption = Annotated[
    list[str] | None,
    typer.Option(
        "--prompt",
        help="A prompt to embed besides the shipped ones and the clip detector's options "
        "(repeat for more).",
    ),
]


@models_app.command("pull")
def pull_model(
    name: Annotated[str, typer.Argument(help="The bundle's name, e.g. clip-vit-b32.")],
    repo: Annotated[
        str | None,
        typer.Option(help="A Hugging Face repository with ONNX exports of both CLIP towers."),
    ] = None,
    revision: Annotated[
        str | None, typer.Option(help="With --repo: the commit sha (or branch) to pull.")
    ] = None,
    vision_file: Annotated[
        str, typer.Option(help="With --repo: the image tower's path in the repository.")
    ] = "onnx/vision_model.onnx",
    text_file: Annotated[
        str, typer.Option(help="With --repo: the text tower's path in the repository.")
    ] = "onnx/text_model.onnx",
    tokenizer_file: Annotated[
        str, typer.Option(help="With --repo: the tokenizer.json's path in the repository.")
    ] = "tokenizer.json",
    preprocessor_file: Annotated[
        str,
        typer.Option(help="With --repo: the preprocessor config's path; '' for CLIP's values."),
    ] = PREPROCESSOR,
    endpoint: Annotated[
        str | None,
        typer.Option(envvar="HF_ENDPOINT", help="The hub's address (a mirror, for instance)."),
    ] = None,
    prompt: PromptOption = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the server before giving up.")
    ] = 30.0,
) -> None:
    """Download a model bundle, checking every file's sha256, and embed its prompts. Needs
    internet and vigil's clip extra (docs/clip.md)."""
    from vigil.service.engine.clip_text import wanted_prompts
    from vigil.service.engine.model_hub import HubSource
    from vigil.service.engine.model_pull import pull, pull_source
    from vigil.settings import load_settings

    settings = load_settings()
    prompts = wanted_prompts(_clip_options(settings.detector_options), prompt or [])
    try:
        if repo is None:
            folder = pull(
                name, settings.resolved_models_dir, timeout, endpoint=endpoint, prompts=prompts
            )
        else:
            hub = HubSource(
                name,
                repo,
                _required_revision(revision),
                vision=vision_file,
                text=text_file,
                tokenizer=tokenizer_file,
                preprocessor=preprocessor_file or None,
            )
            folder = pull_source(
                hub, settings.resolved_models_dir, timeout, endpoint=endpoint, prompts=prompts
            )
    except VigilError as exc:
        fail(exc)
    print(f"{name}: installed in {folder}")
    _print_checksums(folder)


@models_app.command("embed-prompts")
def embed_model_prompts(
    name: Annotated[str, typer.Argument(help="The installed bundle, e.g. clip-vit-b32.")],
    prompt: PromptOption = None,
) -> None:
    """Add text embeddings for the clip detector's custom and neutral prompts (and --prompt)
    to an installed bundle, with its own text tower. Needs vigil's clip extra (docs/clip.md)."""
    from vigil.detectors import providers
    from vigil.service.engine.clip_text import embed_prompts, wanted_prompts
    from vigil.settings import load_settings

    settings = load_settings()
    folder = settings.resolved_models_dir / name
    try:
        if not folder.is_dir():
            raise InvalidParameter(f"No bundle {name!r} in {settings.resolved_models_dir}.")
        providers.use(settings.execution_providers)
        wanted = wanted_prompts(_clip_options(settings.detector_options), prompt or [])
        added = embed_prompts(folder, wanted, settings.inference_threads)
    except VigilError as exc:
        fail(exc)
    for text in added:
        print(f"embedded\t{text}")
    print(f"{name}: {len(added)} prompt(s) added" if added else f"{name}: nothing to add")


@models_app.command("list")
def list_models() -> None:
    """The bundles installed in the models directory, and those vigil can pull."""
    from vigil.service.engine.model_pull import REGISTRY, installed
    from vigil.settings import load_settings

    models_dir = load_settings().resolved_models_dir
    present = installed(models_dir)
    print(f"models directory: {models_dir}")
    for name in present:
        print(f"{name}\tinstalled")
    for name in sorted(set(REGISTRY) - set(present)):
        print(f"{name}\tavailable: vigil models pull {name}\t{REGISTRY[name].description}")
    if not present and not REGISTRY:
        print("no models installed")


def _clip_options(options: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return options.get("clip", {})


def _required_revision(revision: str | None) -> str:
    if not revision:
        raise InvalidParameter(
            "--repo needs --revision: a commit sha, so that every pull gets the same files "
            "(a branch name such as main also works, but follows the branch)."
        )
    return revision


def _print_checksums(folder: Path) -> None:
    from vigil.service.engine.model_manifest import read_manifest

    manifest = read_manifest(folder)
    if manifest is None:
        return
    print(f"from {manifest.repo} at {manifest.revision}")
    for record in manifest.files:
        how = "pinned" if record.pinned else "recorded at first download (not pinned)"
        print(f"{record.path}\tsha256 {record.sha256}\t{how}")
