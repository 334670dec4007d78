"""Read a PyTorch ``.pth`` state dict into numpy arrays, without PyTorch and without trusting it.

A ``.pth`` file is a pickle, and a pickle can name any importable function and call it: loading
one with ``pickle.load`` (or ``torch.load`` without ``weights_only``) runs whatever the file asks
for. This reader unpickles with a fixed allowlist of the few names a plain state dict uses
(``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``, the ``torch.*Storage``
types, each mapped to an inert stand-in here) and refuses every other one, so a file can only
ever produce nested dicts, tuples, numbers and arrays.

Both layouts ``torch.save`` has written are read:

- legacy (before PyTorch 1.6): five pickles in a row (magic number, protocol version, system
  info, the state dict, the list of storage keys), then each storage as an 8-byte little-endian
  element count and its raw little-endian elements, in the order of that list;
- zip (1.6 and later): ``<name>/data.pkl`` is the state dict and ``<name>/data/<key>`` the raw
  bytes of each storage.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from vigil.errors import DetectorFailed

_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_DTYPES: dict[str, type[np.generic]] = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Refused(pickle.UnpicklingError):
    """The file asked for something a state dict has no need for."""


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype[Any]


@dataclass
class _Storage:
    dtype: np.dtype[Any]
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _Tensor:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        """A copy of the elements this tensor views, after checking that the view stays inside
        its storage (``as_strided`` would otherwise read whatever memory lies beyond)."""
        data = self.storage.data
        if data is None or len(data) != self.storage.numel:
            raise _Refused("a tensor's storage was never filled")
        if len(self.size) != len(self.stride) or min((*self.size, *self.stride, 0)) < 0:
            raise _Refused(f"a tensor has a bad shape {self.size} or stride {self.stride}")
        if 0 in self.size:
            return np.zeros(self.size, dtype=data.dtype)
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride, strict=True))
        if self.offset < 0 or last >= len(data):
            raise _Refused("a tensor reaches past the end of its storage")
        itemsize = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], self.size, tuple(s * itemsize for s in self.stride)
        )
        return np.array(view)  # a copy: the view shares memory with the whole storage


def _rebuild_tensor(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _Tensor:
    """Stands in for ``torch._utils._rebuild_tensor_v2`` (requires_grad and hooks ignored)."""
    if not isinstance(storage, _Storage):
        raise _Refused("a tensor was rebuilt from something other than a storage")
    return _Tensor(storage, int(offset), tuple(map(int, size)), tuple(map(int, stride)))


def _rebuild_parameter(data: _Tensor, *_: Any) -> _Tensor:
    """Stands in for ``torch._utils._rebuild_parameter``: a Parameter is just its tensor."""
    return data


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    **{("torch", name): _StorageType(np.dtype(kind)) for name, kind in _DTYPES.items()},
}


class _Unpickler(pickle.Unpickler):
    """Resolves only ``_ALLOWED`` names; storages become ``_Storage`` records, filled later."""

    def __init__(self, file: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(
                f"it asks for {module}.{name}, which a state dict never needs "
                "(refused: unpickling it could run arbitrary code)"
            ) from None

    def persistent_load(self, pid: Any) -> _Storage:
        # ('storage', storage type, key, location, numel[, view metadata (legacy only)])
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise _Refused(f"unknown persistent id {pid!r:.80}")
        kind, key, numel = pid[1], str(pid[2]), int(pid[4])
        if not isinstance(kind, _StorageType) or (len(pid) == 6 and pid[5] is not None):
            raise _Refused(f"unsupported storage {pid!r:.80}")
        storage = self.storages.setdefault(key, _Storage(kind.dtype, numel))
        if storage.dtype != kind.dtype or storage.numel != numel:
            raise _Refused(f"storage {key} is described two different ways")
        return storage


@dataclass
class _Reader:
    storages: dict[str, _Storage] = field(default_factory=dict)

    def unpickle(self, file: IO[bytes]) -> Any:
        return _Unpickler(file, self.storages).load()


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of the ``.pth`` state dict at ``path``, as a numpy array by name.

    Raises ``DetectorFailed`` for a file that is not a state dict, is truncated, or asks the
    unpickler for anything beyond the allowlist."""
    try:
        with path.open("rb") as file:
            if zipfile.is_zipfile(file):
                return _tensors(_read_zip(path))
            file.seek(0)
            return _tensors(_read_legacy(file))
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError) as exc:
        raise DetectorFailed(f"Could not read the PyTorch weights {path}: {exc}") from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise DetectorFailed(f"Could not open the PyTorch weights {path}: {exc}") from exc


def _read_legacy(file: IO[bytes]) -> tuple[Any, dict[str, _Storage]]:
    reader = _Reader()
    if reader.unpickle(file) != _MAGIC:
        raise _Refused("not a PyTorch file (wrong magic number)")
    if reader.unpickle(file) != _LEGACY_PROTOCOL:
        raise _Refused("unsupported legacy protocol version")
    system = reader.unpickle(file)
    if not (isinstance(system, dict) and system.get("little_endian", True)):
        raise _Refused("saved on a big-endian machine")
    state = reader.unpickle(file)
    for key in reader.unpickle(file):
        storage = reader.storages[str(key)]
        count = int.from_bytes(_read_exactly(file, 8), "little")
        if count != storage.numel:
            raise _Refused(
                f"storage {key} holds {count} elements, the tensors expect {storage.numel}"
            )
        storage.data = _elements(_read_exactly(file, count * storage.dtype.itemsize), storage)
    return state, reader.storages


def _read_zip(path: Path) -> tuple[Any, dict[str, _Storage]]:
    reader = _Reader()
    with zipfile.ZipFile(path) as archive:
        pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise _Refused("a zip file without exactly one data.pkl")
        prefix = pickles[0].removesuffix("data.pkl")
        names = set(archive.namelist())
        order = archive.read(f"{prefix}byteorder") if f"{prefix}byteorder" in names else None
        if order not in (None, b"little"):
            raise _Refused("saved on a big-endian machine")
        state = reader.unpickle(io.BytesIO(archive.read(pickles[0])))
        for key, storage in reader.storages.items():
            name = f"{prefix}data/{key}"
            # Checked before reading: a hostile archive could declare any uncompressed size.
            if archive.getinfo(name).file_size != storage.numel * storage.dtype.itemsize:
                raise _Refused(f"storage {key} does not hold the {storage.numel} elements expected")
            storage.data = _elements(archive.read(name), storage)
    return state, reader.storages


def _read_exactly(file: IO[bytes], count: int) -> bytes:
    # Compared with what is left first, so a count a hostile file declares is never allocated.
    left = os.fstat(file.fileno()).st_size - file.tell()
    if count > left:
        raise EOFError(f"the file is truncated ({left} of {count} bytes left at the end)")
    return file.read(count)


def _elements(raw: bytes, storage: _Storage) -> np.ndarray:
    return np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))


def _tensors(loaded: tuple[Any, dict[str, _Storage]]) -> dict[str, np.ndarray]:
    state, _ = loaded
    if not isinstance(state, dict):
        raise _Refused(f"the file holds a {type(state).__name__}, not a state dict")
    return {str(name): value.array() for name, value in state.items() if isinstance(value, _Tensor)}
