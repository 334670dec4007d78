"""PDQ hashing of real photos and the multi-index that searches a list of hashes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data

from vigil.errors import InvalidHash
from vigil.service.hashlists.index import HashIndex, brute_force, flip_masks, pack
from vigil.service.hashlists.pdq import VARIANTS, distance, hash_image, hash_only, parse_hex

ASTRONAUT = Image.fromarray(data.astronaut())
COFFEE = Image.fromarray(data.coffee())


def recompressed(image: Image.Image, scale: float, quality: int) -> Image.Image:
    small = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=quality)
    return Image.open(io.BytesIO(out.getvalue())).convert("RGB")


def test_a_resized_recompressed_copy_is_near_and_another_photo_is_far() -> None:
    original = hash_image(ASTRONAUT)
    copy = hash_only(recompressed(ASTRONAUT, 0.5, 40))
    other = hash_only(COFFEE)
    assert original.quality >= 50
    assert distance(original.digest, copy.digest) <= 31
    assert distance(original.digest, other.digest) > 64


def test_a_mirror_matches_one_of_the_dihedral_hashes() -> None:
    original = hash_image(ASTRONAUT)
    mirrored = hash_only(ImageOps.mirror(ASTRONAUT))
    nearest = min(range(8), key=lambda i: distance(original.dihedral[i], mirrored.digest))
    assert distance(original.digest, mirrored.digest) > 31
    assert distance(original.dihedral[nearest], mirrored.digest) <= 31
    assert VARIANTS[nearest].startswith("flip")


def test_a_blank_image_has_low_quality() -> None:
    assert hash_only(Image.new("RGB", (200, 200), (128, 128, 128))).quality < 50


def test_hex_round_trip_and_refusal() -> None:
    found = hash_only(COFFEE)
    assert parse_hex(found.hex.upper() + "\n") == found.digest
    with pytest.raises(InvalidHash, match="not a PDQ hash"):
        parse_hex("abc")
    with pytest.raises(InvalidHash):
        parse_hex("g" * 64)


def flipped(digest: bytes, bits: list[int]) -> bytes:
    unpacked = np.unpackbits(np.frombuffer(digest, dtype=np.uint8))
    unpacked[bits] ^= 1
    return np.packbits(unpacked).tobytes()


@pytest.mark.parametrize("limit", [0, 10, 31, 47, 63])
def test_the_index_finds_exactly_what_brute_force_finds(limit: int) -> None:
    rng = np.random.default_rng(limit)
    stored = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    queries = []
    for count in (0, limit // 2, limit, limit + 1):
        bits = rng.choice(256, count, replace=False).tolist()
        queries.append(flipped(stored[int(rng.integers(5000))].tobytes(), bits))
    asked = pack(queries)
    assert HashIndex(stored).search(asked, limit) == brute_force(stored, asked, limit)
    found = {hit.distance for hit in HashIndex(stored).search(asked, limit)}
    assert {0, limit // 2, limit} <= found and limit + 1 not in found


def test_an_empty_index_finds_nothing() -> None:
    assert HashIndex(pack([])).search(pack([bytes(32)]), 31) == []
    assert brute_force(pack([]), pack([bytes(32)]), 31) == []


def test_flip_masks_cover_every_mask_within_the_radius() -> None:
    assert len(flip_masks(1)) == 17
    assert len(set(flip_masks(2).tolist())) == 1 + 16 + 120
