"""Finding every stored hash within a distance of a query: multi-index hashing over numpy.

The 256 bits are cut into 16 chunks of 16 bits. Two hashes within ``d`` bits differ in at most
``r = ceil((d + 1) / 16) - 1`` bits in at least one chunk (pigeonhole), so the candidates are
the hashes whose chunk equals, for some chunk, the query's chunk with at most ``r`` bits
flipped: for PDQ's customary 31 bits, 17 probes per chunk. Each chunk is a sorted array, so a
probe is a binary search; candidates are then checked on all 256 bits at once. At a million
random hashes a query with its eight rotations and mirrors looks at a few thousand candidates
instead of a million (``benchmarks/hashlists.py`` measures both ways).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

CHUNKS = 16
CHUNK_BITS = 16
MAX_DISTANCE = 63  # the largest distance a list may use (4 bits a chunk: 697 probes each)


@dataclass(frozen=True)
class Hit:
    """A stored hash within reach of a query: its position, distance and which query."""

    position: int
    distance: int
    query: int


def pack(hashes: Sequence[bytes]) -> np.ndarray:
    """32-byte hashes as an (n, 32) uint8 array."""
    if not hashes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, 32).copy()


def popcount(words: np.ndarray) -> np.ndarray:
    """Set bits of each row of (..., 4) uint64 words, as int32."""
    counter = getattr(np, "bitwise_count", None)
    counts = counter(words) if counter is not None else _BYTE_BITS[words.view(np.uint8)]
    if counter is None:
        counts = counts.reshape(*words.shape, 8).sum(axis=-1, dtype=np.int32)
    total = counts[..., 0].astype(np.int32)
    for column in range(1, counts.shape[-1]):
        total += counts[..., column]
    return total


_BYTE_BITS = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)


def distances(stored: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distances of every (n, 32) ``stored`` hash to each (q, 32) ``query``: (q, n)."""
    words = np.ascontiguousarray(stored).view(np.uint64)
    wanted = np.ascontiguousarray(query).view(np.uint64)
    found = np.empty((len(wanted), len(words)), dtype=np.int32)
    for row, one in enumerate(wanted):
        found[row] = popcount(words ^ one)
    return found


def brute_force(stored: np.ndarray, queries: np.ndarray, limit: int) -> list[Hit]:
    """Every stored hash within ``limit`` of some query, checking all of them."""
    if len(stored) == 0 or len(queries) == 0:
        return []
    found = distances(stored, queries)
    return _best_hits(found, np.arange(len(stored)), limit)


class HashIndex:
    """An immutable multi-index over (n, 32) hashes, built once and queried many times."""

    def __init__(self, hashes: np.ndarray) -> None:
        self.hashes = np.ascontiguousarray(hashes, dtype=np.uint8).reshape(-1, 32)
        self._words = self.hashes.view(np.uint64)  # (n, 4)
        chunks = _chunks(self.hashes)  # (n, 16): chunk c is bits 16c..16c+15
        order = np.argsort(chunks, axis=0, kind="stable")
        self._order = order.T.astype(np.int32)  # (16, n): positions by chunk value
        self._starts = _run_starts(chunks)

    def __len__(self) -> int:
        return len(self.hashes)

    def search(self, queries: np.ndarray, limit: int) -> list[Hit]:
        """Every stored hash within ``limit`` bits of one of ``queries`` ((q, 32) uint8), with
        the nearest query's distance; each stored hash at most once."""
        if len(self) == 0 or len(queries) == 0:
            return []
        positions, asked = self._candidates(queries, limit)
        words = np.take(self._words, positions, axis=0)
        wanted = np.take(np.ascontiguousarray(queries, dtype=np.uint8).view(np.uint64), asked, 0)
        found = popcount(words ^ wanted)
        near = np.nonzero(found <= limit)[0]
        return _nearest(positions[near], found[near], asked[near])

    def _candidates(self, queries: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions sharing a near chunk with some query, and that query (repeats possible):
        each candidate needs checking against the query that found it only."""
        masks = flip_masks(_radius(limit)).astype(np.int64)
        query_chunks = _chunks(queries).astype(np.int64)  # (q, 16)
        owners = np.repeat(np.arange(len(queries)), len(masks))
        positions: list[np.ndarray] = []
        asked: list[np.ndarray] = []
        for chunk in range(CHUNKS):
            probes = (query_chunks[:, chunk][:, None] ^ masks[None, :]).ravel()
            starts = self._starts[chunk][probes]
            ends = self._starts[chunk][probes + 1]
            positions.append(self._order[chunk][_expand(starts, ends)])
            asked.append(np.repeat(owners, ends - starts))
        return np.concatenate(positions), np.concatenate(asked)


def _run_starts(chunks: np.ndarray) -> np.ndarray:
    """(16, 65537): where each chunk value's run starts in ``_order`` (a CSR table)."""
    if len(chunks) == 0:
        # All zeros, left to the allocator: counting would write the 8 MB, 10 to 60 ms for
        # an empty index, which every process makes first (a one-shot `vigil moderate` too).
        return np.zeros((CHUNKS, (1 << CHUNK_BITS) + 1), dtype=np.int64)
    return np.stack(
        [
            np.concatenate(([0], np.cumsum(np.bincount(column, minlength=1 << CHUNK_BITS))))
            for column in chunks.T
        ]
    ).astype(np.int64)


def flip_masks(radius: int) -> np.ndarray:
    """Every 16-bit mask with at most ``radius`` bits set (0 first)."""
    masks = [0]
    for count in range(1, radius + 1):
        for bits in combinations(range(CHUNK_BITS), count):
            masks.append(sum(1 << bit for bit in bits))
    return np.array(masks, dtype=np.uint16)


def _chunks(hashes: np.ndarray) -> np.ndarray:
    """(n, 32) uint8 hashes as (n, 16) native uint16 chunks, most significant first."""
    big_endian = np.ascontiguousarray(hashes, dtype=np.uint8).view(">u2")
    return big_endian.astype(np.uint16)


def _radius(limit: int) -> int:
    return max(0, -(-(limit + 1) // CHUNKS) - 1)


def _expand(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The positions of every [start, end) range, concatenated."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    positions: np.ndarray = np.arange(total) + offsets
    return positions


def _best_hits(found: np.ndarray, positions: np.ndarray, limit: int) -> list[Hit]:
    best_query = found.argmin(axis=0)
    best = found[best_query, np.arange(found.shape[1])]
    near = np.nonzero(best <= limit)[0]
    return _nearest(positions[near], best[near], best_query[near])


def _nearest(positions: np.ndarray, found: np.ndarray, asked: np.ndarray) -> list[Hit]:
    """One hit per position, its smallest distance, nearest first."""
    hits: dict[int, Hit] = {}
    for position, distance, query in zip(positions, found, asked, strict=True):
        held = hits.get(int(position))
        if held is None or distance < held.distance:
            hits[int(position)] = Hit(int(position), int(distance), int(query))
    return sorted(hits.values(), key=lambda hit: (hit.distance, hit.position))
