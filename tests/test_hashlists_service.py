"""The hash-list service on SQLite and PostgreSQL: lists, items, import and export in one
transaction, refusals with stable codes, and a matcher that follows the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image
from skimage import data

from tests.images import encode
from vigil.errors import (
    Forbidden,
    HashListExists,
    HashListNotFound,
    HashListProtected,
    HashNotInList,
    InvalidHash,
    InvalidParameter,
    LowQualityHash,
)
from vigil.media.intake import ImageLimits, decode_image
from vigil.service.access.principal import Principal, Role
from vigil.service.hashlists.matcher import HashMatcher
from vigil.service.hashlists.model import MatchRules
from vigil.service.hashlists.pdq import hash_only
from vigil.service.hashlists.service import HashListService, Upload
from vigil.storage.db import Database, migrate
from vigil.storage.tables import ApiKeyRow, AssetRow

ADMIN = Principal("admin-key", Role.ADMIN)
LIMITS = ImageLimits(max_bytes=10_000_000, max_pixels=50_000_000, max_side=10_000, min_side=16)


def random_hashes(count: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [bytes(row).hex() for row in rng.integers(0, 256, (count, 32), dtype=np.uint8)]


@pytest.fixture
def service(database_url: str) -> Iterator[HashListService]:
    migrate(database_url)
    db = Database(database_url)
    rules = MatchRules(refresh_seconds=0)
    try:
        yield HashListService(db, rules, HashMatcher(db, rules), lambda b: decode_image(b, LIMITS))
    finally:
        db.dispose()


def test_create_show_list_and_delete(service: HashListService) -> None:
    made = service.create(ADMIN, "hate", "block", "Hate Symbols", None, "shared list")
    assert (made["action"], made["label"], made["distance"], made["items"]) == (
        "block",
        "Hate Symbols",
        31,
        0,
    )
    names = {view["name"]: view for view in service.lists(ADMIN)}
    assert set(names) == {"hate", "rejected", "approved"}
    assert names["rejected"]["builtin"] and names["approved"]["distance"] == 10
    assert service.create(ADMIN, "ok", "allow")["distance"] == 10
    assert service.delete(ADMIN, "hate") == {"deleted": "hate", "items_removed": 0}
    with pytest.raises(HashListNotFound):
        service.show(ADMIN, "hate")


def test_refusals_have_stable_codes(service: HashListService) -> None:
    service.create(ADMIN, "one", "block")
    with pytest.raises(HashListExists):
        service.create(ADMIN, "one", "review")
    with pytest.raises(InvalidParameter, match="action"):
        service.create(ADMIN, "two", "shrug")
    with pytest.raises(InvalidParameter, match="taxonomy"):
        service.create(ADMIN, "two", "block", "Cats")
    with pytest.raises(InvalidParameter, match="distance"):
        service.create(ADMIN, "two", "block", None, 64)
    with pytest.raises(InvalidParameter, match="list name"):
        service.create(ADMIN, "a b", "block")
    with pytest.raises(HashListProtected):
        service.delete(ADMIN, "rejected")
    with pytest.raises(Forbidden):
        service.lists(Principal("someone", Role.REVIEWER))
    with pytest.raises(HashNotInList):
        service.remove(ADMIN, "one", "0" * 64)
    with pytest.raises(InvalidHash):
        service.add_hashes(ADMIN, "one", ["xyz"])


def test_adding_hashes_and_images_keeps_each_hash_once(service: HashListService) -> None:
    service.create(ADMIN, "known", "block")
    first, second = random_hashes(2)
    added = service.add_hashes(ADMIN, "known", [first, second.upper(), first], "from a partner")
    assert (added["added"], added["already_listed"]) == (2, 1)
    image = service.add_images(ADMIN, "known", [Upload("cat.png", encode(data.chelsea(), "PNG"))])
    assert image["added"] == 1
    items = service.show(ADMIN, "known")["item_page"]
    assert [item["note"] for item in items] == ["from a partner", "from a partner", "cat.png"]
    assert items[2]["quality"] >= 50 and items[0]["added_by"] == "admin-key"
    assert service.remove(ADMIN, "known", second)["removed"] == second
    assert service.show(ADMIN, "known")["items"] == 2


def test_a_flat_image_is_refused(service: HashListService) -> None:
    service.create(ADMIN, "known", "block")
    flat = Upload("grey.png", encode(Image.new("RGB", (200, 200), (120, 120, 120)), "PNG"))
    with pytest.raises(LowQualityHash, match=r"grey\.png: PDQ quality"):
        service.add_images(ADMIN, "known", [flat])


def test_plain_import_and_export_round_trip(service: HashListService) -> None:
    service.create(ADMIN, "partner", "block")
    hashes = random_hashes(1200)
    text = "# a partner's list\n\n" + "\n".join(hashes) + "\n"
    result = service.import_text(ADMIN, "partner", text)
    assert (result["added"], result["already_listed"]) == (1200, 0)
    assert "".join(service.export(ADMIN, "partner")).split() == hashes
    again = service.import_text(ADMIN, "partner", text)
    assert (again["added"], again["already_listed"]) == (0, 1200)


def test_csv_import_in_threatexchange_and_reference_hasher_forms(
    service: HashListService,
) -> None:
    service.create(ADMIN, "tx", "review")
    one, two, three = random_hashes(3)
    exported = (
        "indicator_id,signal_type,signal_value,tags\n"
        f"1,pdq,{one},hate\n"
        "2,md5,d41d8cd98f00b204e9800998ecf8427e,hate\n"
        f"3,pdq,{two},\n"
    )
    result = service.import_text(ADMIN, "tx", exported)
    assert (result["added"], result["other_hash_types_skipped"]) == (2, 1)
    reference = f"{three},100,photos/a.jpg\n"
    assert service.import_text(ADMIN, "tx", reference, "csv")["added"] == 1
    items = service.show(ADMIN, "tx")["item_page"]
    assert [(item["pdq"], item["note"], item["quality"]) for item in items] == [
        (one, "hate", None),
        (two, "", None),
        (three, "photos/a.jpg", 100),
    ]
    lines = list(service.export(ADMIN, "tx", "csv"))
    assert lines[0] == "hash,quality,note,added_by,added_at,source_asset\n"
    assert lines[3].startswith(f"{three},100,photos/a.jpg,admin-key,")
    copied = "".join(lines)
    service.create(ADMIN, "copy", "block")
    assert service.import_text(ADMIN, "copy", copied)["added"] == 3


def test_a_bad_line_names_itself_and_nothing_is_imported(service: HashListService) -> None:
    service.create(ADMIN, "partner", "block")
    good = random_hashes(3)
    text = f"{good[0]}\nnot-a-hash\n{good[1]}\n{good[2][:-1]}\n"
    with pytest.raises(InvalidHash) as refused:
        service.import_text(ADMIN, "partner", text)
    assert "line 2: 'not-a-hash'" in refused.value.message
    assert "line 4:" in refused.value.message and "nothing imported" in refused.value.message
    assert service.show(ADMIN, "partner")["items"] == 0
    with pytest.raises(InvalidHash, match="line 3: quality"):
        service.import_text(ADMIN, "partner", f"hash,quality\n{good[0]},90\n{good[1]},high\n")
    with pytest.raises(InvalidParameter, match="format"):
        service.import_text(ADMIN, "partner", good[0], "xml")


def test_the_matcher_follows_adds_and_removals(service: HashListService) -> None:
    service.create(ADMIN, "known", "block")
    matcher = service.matcher
    listed = random_hashes(100, seed=3)
    assert matcher.find([bytes.fromhex(listed[0])]) == []
    service.add_hashes(ADMIN, "known", listed[:50])
    (found,) = matcher.find([bytes.fromhex(listed[7])])
    assert (found.list.name, found.distance, found.variant) == ("known", 0, 0)
    service.import_text(ADMIN, "known", "\n".join(listed[50:]))  # the tail, searched as is
    assert matcher.find([bytes.fromhex(listed[90])])[0].distance == 0
    service.remove(ADMIN, "known", listed[90])  # a removal reloads everything
    assert matcher.find([bytes.fromhex(listed[90])]) == []
    assert matcher.size == 99
    service.delete(ADMIN, "known")
    assert matcher.find([bytes.fromhex(listed[7])]) == []


def test_rematch_reports_stored_assets_near_a_list(service: HashListService) -> None:
    photo = hash_only(Image.fromarray(data.astronaut()))
    now = datetime.now(UTC)
    with service.db.session() as session:
        session.add(ApiKeyRow(id="k", key_hash="h", role="uploader", created_at=now))
        session.flush()
        session.add(_asset("a1", photo.hex, now))
        session.add(_asset("a2", random_hashes(1, seed=9)[0], now))
    service.create(ADMIN, "late", "block")
    service.add_hashes(ADMIN, "late", [photo.hex])
    found = service.rematch(ADMIN, "late")
    assert [(m["asset_id"], m["distance"], m["status"]) for m in found["matches"]] == [
        ("a1", 0, "approved")
    ]
    assert service.rematch(ADMIN, "late", datetime(2999, 1, 1, tzinfo=UTC))["matches"] == []


def _asset(asset_id: str, pdq: str, now: datetime) -> AssetRow:
    return AssetRow(
        id=asset_id,
        owner_key_id="k",
        format="jpeg",
        mime="image/jpeg",
        size_bytes=1,
        width=1,
        height=1,
        sha256="0" * 64,
        status="approved",
        moderation_mode="auto",
        storage_area="public",
        pdq=pdq,
        pdq_quality=100,
        created_at=now,
        updated_at=now,
    )
