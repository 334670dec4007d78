"""Text embeddings for a clip bundle's prompts, computed with the bundle's ONNX text tower and
its ``tokenizer.json`` (the ``tokenizers`` package; no PyTorch). `vigil models pull` stores them
in ``prompts.json`` and ``text_embeddings.npy``, the files the clip detector reads; `vigil
models embed-prompts` adds rows for prompts written later (docs/clip.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnxruntime as ort

from vigil.detectors import clip_prompts
from vigil.detectors.onnx import create_session
from vigil.errors import DetectorFailed

if TYPE_CHECKING:
    from tokenizers import Tokenizer

TEXT_TOWER = "text.onnx"
TOKENIZER = "tokenizer.json"
PROMPTS = "prompts.json"
EMBEDDINGS = "text_embeddings.npy"
# CLIP's text context, in tokens: longer prompts are cut there unless tokenizer.json sets
# its own limit. The text tower's position table has exactly this many rows.
CONTEXT_LENGTH = 77
MISSING_TOKENIZERS = (
    "the tokenizers package is not installed: pip install 'vigil[clip]' (docs/clip.md)"
)


def wanted_prompts(options: Mapping[str, Any], extra: Iterable[str] = ()) -> list[str]:
    """Every prompt the clip detector may ask about, each once: the shipped ones, the custom
    and neutral prompts of its options (``VIGIL_DETECTOR_OPTIONS["clip"]``), then ``extra``."""
    custom: Mapping[str, str | list[str]] = options.get("custom_labels") or {}
    found = list(clip_prompts.all_prompts())
    for words in custom.values():
        found.extend([words] if isinstance(words, str) else words)
    found.extend(options.get("neutral_prompts") or [])
    found.extend(extra)
    return list(dict.fromkeys(found))


def stored_prompts(directory: Path) -> list[str]:
    """The prompts a bundle already has rows for (none when it has no ``prompts.json``)."""
    path = directory / PROMPTS
    if not path.is_file():
        return []
    prompts = _read_prompts(path)
    return [str(prompt) for prompt in prompts]


def embed_prompts(directory: Path, prompts: Sequence[str], threads: int = 0) -> list[str]:
    """Rows added to the bundle in ``directory`` for those of ``prompts`` it lacks, computed
    with its text tower; returns the prompts added. Rows already there are kept as they are."""
    known, table = _stored_table(directory)
    have = set(known)
    new = [prompt for prompt in dict.fromkeys(prompts) if prompt not in have]
    if not new:
        return []
    rows = TextTower(directory, threads).embed(new)
    if table.size and table.shape[1] != rows.shape[1]:
        raise DetectorFailed(
            f"The text tower in {directory} makes {rows.shape[1]}-wide embeddings but "
            f"{EMBEDDINGS} holds {table.shape[1]}-wide ones: the two come from different models."
        )
    _write_table(directory, known + new, np.concatenate([table, rows]) if table.size else rows)
    return new


class TextTower:
    """A bundle's text tower and tokenizer: one prompt in, its ``[D]`` embedding out."""

    def __init__(self, directory: Path, threads: int = 0) -> None:
        for name in (TEXT_TOWER, TOKENIZER):
            if not (directory / name).is_file():
                raise DetectorFailed(
                    f"{directory} has no {name}, so its prompts cannot be embedded here; pull "
                    "the bundle again with `vigil models pull` (it keeps the text tower), or "
                    f"embed them where the text tower runs and add them to {PROMPTS} and "
                    f"{EMBEDDINGS} (docs/clip.md)."
                )
        self.tokenizer = _tokenizer(directory / TOKENIZER)
        self.session = create_session(directory / TEXT_TOWER, threads, name="the text tower")
        self.output = _embedding_output(self.session)

    def embed(self, prompts: Sequence[str]) -> np.ndarray:
        """``[len(prompts), D]`` float32, not normalised (the detector normalises on load)."""
        return np.stack([self._one(prompt) for prompt in prompts]).astype(np.float32)

    def _one(self, prompt: str) -> np.ndarray:
        # One prompt per run: no padding, so the tower's pooling never meets a pad token.
        encoding = self.tokenizer.encode(prompt)
        feeds = _feeds(self.session, encoding.ids, encoding.attention_mask)
        try:
            outputs = self.session.run([self.output], feeds)
        except Exception as exc:  # onnxruntime's errors have no useful common base class
            raise DetectorFailed(f"The text tower failed on {prompt!r}: {exc}") from exc
        embedding = np.asarray(outputs[0], dtype=np.float32)
        if embedding.ndim != 2 or embedding.shape[0] != 1:
            raise DetectorFailed(
                f"The text tower's output {self.output!r} has shape {embedding.shape}; the "
                "clip detector needs one [1, D] embedding per prompt (a projected text "
                "embedding, as CLIP's text_embeds)."
            )
        return np.asarray(embedding[0])


def _tokenizer(path: Path) -> Tokenizer:
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise DetectorFailed(f"Cannot embed prompts: {MISSING_TOKENIZERS}.") from exc
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception for unreadable files
        raise DetectorFailed(f"Could not read the tokenizer {path}: {exc}") from exc
    if tokenizer.truncation is None:
        tokenizer.enable_truncation(max_length=CONTEXT_LENGTH)
    return tokenizer


def _embedding_output(session: ort.InferenceSession) -> str:
    """CLIP exports name the projected embedding ``text_embeds``; others put it first."""
    names = [output.name for output in session.get_outputs()]
    return "text_embeds" if "text_embeds" in names else names[0]


def _feeds(session: ort.InferenceSession, ids: list[int], mask: list[int]) -> dict[str, Any]:
    """The token ids for the ids input (``input_ids``, or the only input) and, where the
    tower takes one, the attention mask; each in the dtype the graph declares."""
    inputs = session.get_inputs()
    feeds: dict[str, Any] = {}
    for entry in inputs:
        if entry.name == "attention_mask":
            feeds[entry.name] = np.asarray([mask], dtype=_dtype(entry.type))
        elif entry.name == "input_ids" or len(inputs) == 1:
            feeds[entry.name] = np.asarray([ids], dtype=_dtype(entry.type))
        else:
            raise DetectorFailed(
                f"The text tower takes an input {entry.name!r} vigil does not know how to "
                "fill; it fills input_ids and attention_mask (docs/clip.md)."
            )
    return feeds


def _dtype(onnx_type: str) -> type[np.integer[Any]]:
    return np.int32 if onnx_type == "tensor(int32)" else np.int64


def _read_prompts(path: Path) -> list[Any]:
    try:
        prompts = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DetectorFailed(f"Could not read {path}: {exc}") from exc
    if not isinstance(prompts, list):
        raise DetectorFailed(f"{path} must hold a JSON list of prompts.")
    return prompts


def _stored_table(directory: Path) -> tuple[list[str], np.ndarray]:
    known = stored_prompts(directory)
    if not known:
        return [], np.zeros((0, 0), dtype=np.float32)
    try:
        table = np.load(directory / EMBEDDINGS, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DetectorFailed(f"Could not read {directory / EMBEDDINGS}: {exc}") from exc
    if table.ndim != 2 or len(table) != len(known):
        raise DetectorFailed(
            f"{directory}: {PROMPTS} has {len(known)} prompts but {EMBEDDINGS} has shape "
            f"{table.shape}; remove both and run `vigil models embed-prompts` to rebuild them."
        )
    return known, np.asarray(table, dtype=np.float32)


def _write_table(directory: Path, prompts: list[str], table: np.ndarray) -> None:
    """Both files written beside their old selves, then moved over them, so a reader never
    sees half a file. (A crash between the two moves leaves them of unequal length, which the
    detector refuses at load with a message that names both.)"""
    staged_table = directory / f".{EMBEDDINGS}.new"
    with staged_table.open("wb") as out:
        np.save(out, table.astype(np.float32))
    staged_prompts = directory / f".{PROMPTS}.new"
    staged_prompts.write_text(json.dumps(prompts, indent=1, ensure_ascii=False) + "\n")
    os.replace(staged_table, directory / EMBEDDINGS)
    os.replace(staged_prompts, directory / PROMPTS)
