"""PDQ, Meta's 256-bit perceptual image hash, through the ``pdqhash`` bindings.

A hash is kept as 32 bytes (``bytes``), most significant bit first, so that its hex form is the
64-character string ThreatExchange and hash-sharing programmes exchange. ``quality`` (0-100)
says how much structure the image had: flat or blank images hash poorly and are not matched
below a floor (docs/hashlists.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pdqhash
from PIL import Image

from vigil.errors import InvalidHash
from vigil.service.hashlists.margins import without_margins

BITS = 256
HEX_LENGTH = BITS // 4
# Larger images are scaled down first: PDQ shrinks to 64x64 anyway, and hashing a 12-megapixel
# PNG at full size costs ~0.1 s; the detectors' own decoding side (media.intake) is the same.
HASH_SIDE = 1024
# The order ``pdqhash.compute_dihedral`` returns its eight hashes in.
VARIANTS = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_x",
    "flip_y",
    "flip_plus1",
    "flip_minus1",
)
_HEX = re.compile(r"[0-9a-f]{64}")


# A query's variants 8-15 are those eight of the picture with its margins cut (``margins``).
MARGINS_CUT = len(VARIANTS)


@dataclass(frozen=True)
class PdqHash:
    """One image's hash, its quality, and the hashes of its seven rotations and mirrors."""

    digest: bytes  # 32 bytes
    quality: int
    dihedral: tuple[bytes, ...] = ()  # all eight, ``digest`` first, in ``VARIANTS`` order
    content: PdqHash | None = None  # the picture without its flat margins, when it has any

    @property
    def hex(self) -> str:
        return self.digest.hex()

    @property
    def queries(self) -> tuple[bytes, ...]:
        """What is matched: the eight variants, then the margin-less picture's eight."""
        return self.dihedral + (self.content.dihedral if self.content else ())


def variant_name(index: int) -> str:
    """The name of query variant ``index`` (``PdqHash.queries``)."""
    name = VARIANTS[index % MARGINS_CUT]
    return name if index < MARGINS_CUT else f"{name}_margins_cut"


def hash_upload(image: Image.Image) -> PdqHash:
    """``hash_image``, with the hash of the picture without its flat margins (a screenshot's
    bars, a caption bar) as ``content`` when it has any."""
    full = hash_image(image)
    inner = without_margins(image)
    return full if inner is None else replace(full, content=hash_image(inner))


def listed_hashes(image: Image.Image) -> list[PdqHash]:
    """The hashes a list keeps for ``image``: as it is, and without its flat margins, so a
    copy that lost or gained a frame still meets one of them."""
    full = hash_only(image)
    inner = without_margins(image)
    return [full] if inner is None else [full, hash_only(inner)]


def hash_image(image: Image.Image) -> PdqHash:
    """The PDQ hash of ``image`` with its eight dihedral variants (one pass computes all)."""
    vectors, quality = pdqhash.compute_dihedral(_rgb_array(image))
    variants = tuple(_packed(vector) for vector in vectors)
    return PdqHash(variants[0], int(quality), variants)


def hash_only(image: Image.Image) -> PdqHash:
    """The PDQ hash of ``image`` alone (no rotations): for adding an image to a list."""
    vector, quality = pdqhash.compute(_rgb_array(image))
    return PdqHash(_packed(vector), int(quality))


def parse_hex(text: str) -> bytes:
    """A 64-character hex PDQ hash as 32 bytes; ``InvalidHash`` otherwise."""
    cleaned = text.strip().lower()
    if not _HEX.fullmatch(cleaned):
        shown = text.strip()[:80]
        raise InvalidHash(
            f"'{shown}' is not a PDQ hash: expected {HEX_LENGTH} hexadecimal characters"
        )
    return bytes.fromhex(cleaned)


def distance(first: bytes, second: bytes) -> int:
    """Hamming distance in bits between two hashes."""
    return (int.from_bytes(first, "big") ^ int.from_bytes(second, "big")).bit_count()


def _rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode != "RGB":
        image = image.convert("RGB")
    if max(image.size) > HASH_SIDE:
        image = image.copy()
        image.thumbnail((HASH_SIDE, HASH_SIDE), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))


def _packed(vector: np.ndarray) -> bytes:
    """``pdqhash``'s 256 bits (most significant first) as 32 bytes."""
    return np.packbits(np.asarray(vector, dtype=np.uint8)).tobytes()
