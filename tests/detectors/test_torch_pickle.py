"""The restricted .pth reader: real torch files in both layouts, hostile and broken ones."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vigil.detectors.objects.efficientnet import VARIANTS, weights_path
from vigil.detectors.objects.torch_pickle import load_state_dict
from vigil.errors import DetectorFailed

# Written by torch 2.13 (scripts/efficientnet_golden.py); their values are in tiny_pth.json.
FIXTURES = Path(__file__).parent / "fixtures"
LAYOUTS = ("tiny_legacy.pth", "tiny_zip.pth")


@pytest.mark.parametrize("name", LAYOUTS)
def test_reads_every_tensor_of_both_layouts(name: str) -> None:
    expected = json.loads((FIXTURES / "tiny_pth.json").read_text())
    found = load_state_dict(FIXTURES / name)
    assert list(found) == list(expected)
    for key, tensor in expected.items():
        assert found[key].shape == tuple(tensor["shape"])
        assert str(found[key].dtype) == tensor["dtype"].removeprefix("torch.")
        assert found[key].flatten().tolist() == pytest.approx(tensor["values"], abs=0)


def test_views_are_copied_out_of_their_storage() -> None:
    found = load_state_dict(FIXTURES / "tiny_legacy.pth")
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.array_equal(found["transposed"], base.T)  # strides (1, 4)
    assert np.array_equal(found["slice"], base[1:, 2:])  # offset 6, shared storage
    assert found["slice"].flags.owndata  # not a view keeping the whole storage alive


def test_reads_the_packaged_efficientnet_weights() -> None:
    found = load_state_dict(weights_path(VARIANTS["lite0"]))
    assert len(found) == 296
    assert found["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert found["_fc.weight"].shape == (1000, 1280)
    assert found["_fc.weight"].dtype == np.float32


class _Shell:
    """Unpickling this runs a shell command: what a hostile .pth would carry."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (self.command,))


def _legacy_file(state: object) -> bytes:
    """A legacy-layout .pth whose state dict pickle is ``state``."""
    buffer = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, buffer, protocol=2)
    pickle.dump(state, buffer, protocol=2)
    pickle.dump([], buffer, protocol=2)
    return buffer.getvalue()


def test_refuses_a_pickle_that_asks_for_os_system(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.pth"
    hostile.write_bytes(_legacy_file({"weight": _Shell(f"touch {marker}")}))
    with pytest.raises(DetectorFailed, match=r"asks for (posix|os)\.system.*refused"):
        load_state_dict(hostile)
    assert not marker.exists()


def test_refuses_a_hostile_pickle_in_the_zip_layout(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.pth"
    with zipfile.ZipFile(hostile, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(_Shell(f"touch {marker}"), protocol=2))
    with pytest.raises(DetectorFailed, match="refused"):
        load_state_dict(hostile)
    assert not marker.exists()


@pytest.mark.parametrize("name", LAYOUTS)
def test_a_truncated_file_is_a_clear_failure(name: str, tmp_path: Path) -> None:
    data = (FIXTURES / name).read_bytes()
    truncated = tmp_path / name
    truncated.write_bytes(data[: len(data) - 40])
    with pytest.raises(DetectorFailed, match="PyTorch weights"):
        load_state_dict(truncated)


def test_not_a_pth_file(tmp_path: Path) -> None:
    other = tmp_path / "other.pth"
    other.write_bytes(pickle.dumps([1, 2, 3], protocol=2))
    with pytest.raises(DetectorFailed, match="magic number"):
        load_state_dict(other)
    with pytest.raises(DetectorFailed, match="Could not open"):
        load_state_dict(tmp_path / "missing.pth")
