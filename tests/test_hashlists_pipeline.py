"""Hash lists in the pipeline: real uploads, real PDQ, a real SQLite database, the open_nsfw
detector. A person's reject blocks copies; an approval exempts the overturned category only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps
from skimage import data

from tests.conftest import running_vigil
from tests.images import encode
from tests.reposts import captioned, copy_of
from tests.videos import encode_clip, scene_frames, write
from vigil.app import Vigil
from vigil.detectors.base import Detection
from vigil.media.video_formats import MP4
from vigil.policy.context import default_context
from vigil.policy.model import Band, Policy
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Principal, Role
from vigil.service.assets.uploads import UploadRequest
from vigil.service.engine.moderation import ModerationEngine
from vigil.service.hashlists.feedback import AUDIT_ACTION
from vigil.service.hashlists.pdq import hash_image, hash_only
from vigil.service.hashlists.service import Upload
from vigil.service.policies.presets import UploadOptions
from vigil.service.video.files import moderate_video_file
from vigil.storage.tables import AssetRow

ADMIN = Principal("test-admin", Role.ADMIN)


def people(vigil: Vigil) -> tuple[Principal, Principal]:
    uploader = authenticate(vigil.db, f"Bearer {create_key(vigil.db, Role.UPLOADER)}")
    reviewer = authenticate(vigil.db, f"Bearer {create_key(vigil.db, Role.REVIEWER)}")
    return uploader, reviewer


def upload(vigil: Vigil, who: Principal, data: bytes, policy: str | None = None) -> dict[str, Any]:
    options = UploadOptions(policy=policy)
    return vigil.uploads.upload(data, UploadRequest("photo.jpg", options), who)


def test_a_rejected_image_blocks_its_copies(lists_vigil: Vigil) -> None:
    uploader, reviewer = people(lists_vigil)
    first = upload(lists_vigil, uploader, encode(data.astronaut()), "review-all")
    assert first["status"] == "review"
    lists_vigil.assets.override(first["id"], reviewer, "rejected", "hate symbol")

    rejected = lists_vigil.hashlists.show(ADMIN, "rejected")
    (item,) = rejected["item_page"]
    assert item["source_asset_id"] == first["id"] and item["added_by"] == reviewer.key_id
    audit = lists_vigil.assets.audit(first["id"], ADMIN)
    assert [event["action"] for event in audit][-1] == AUDIT_ACTION

    copy = upload(lists_vigil, uploader, copy_of(data.astronaut()))  # the default policy
    assert copy["status"] == "rejected"
    assert copy["decision"]["rule"] == "hashlist.rejected.block"
    explained = lists_vigil.assets.explain(copy["id"], ADMIN)["explanation"]
    assert "hash list 'rejected'" in explained
    assert f"asset {first['id']} was rejected by {reviewer.key_id}" in explained


def test_the_copy_is_stored_with_its_hash_and_the_match_in_its_detections(
    lists_vigil: Vigil,
) -> None:
    listed = lists_vigil.hashlists
    listed.create(ADMIN, "symbols", "block", "Hate Symbols")
    listed.add_images(ADMIN, "symbols", [_upload(encode(data.coffee()))])
    result = lists_vigil.engine.moderate(copy_of(data.coffee()), lists_vigil.policy())
    shown = result.to_dict(0)
    (found,) = [d for d in shown["Detections"] if d["Detector"] == "hashlist"]
    assert found["Name"] == "Hate Symbols" and found["HashList"]["List"] == "symbols"
    assert 50 <= found["Confidence"] <= 100 and found["HashList"]["Distance"] <= 31
    assert "Hate Symbols" in {label["Name"] for label in shown["ModerationLabels"]}
    assert result.decision.action == "block"
    assert result.known is not None and result.known.pdq is not None

    uploader, _ = people(lists_vigil)
    asset = upload(lists_vigil, uploader, encode(data.coffee()))
    expected = hash_image(lists_vigil.engine.decode(encode(data.coffee())).pixels)
    with lists_vigil.db.session() as session:
        row = session.get(AssetRow, asset["id"])
    assert row is not None
    assert (row.pdq, row.pdq_quality) == (expected.hex, expected.quality)


def test_a_mirrored_copy_matches_through_the_dihedral_hashes(lists_vigil: Vigil) -> None:
    lists_vigil.hashlists.create(ADMIN, "known", "review")
    lists_vigil.hashlists.add_images(ADMIN, "known", [_upload(encode(data.astronaut()))])
    mirrored = encode(ImageOps.mirror(Image.fromarray(data.astronaut())))
    decision = lists_vigil.engine.moderate(mirrored, lists_vigil.policy()).decision
    assert decision.action == "review" and decision.rule == "hashlist.known.review"
    assert "as flip" in decision.reason


def test_an_approval_after_an_automatic_block_exempts_that_category_only(
    lists_vigil: Vigil,
) -> None:
    uploader, reviewer = people(lists_vigil)
    first = upload(lists_vigil, uploader, encode(data.coffee()), "block-all")
    assert first["status"] == "rejected" and first["decision"]["label"] == "Explicit"
    lists_vigil.assets.override(first["id"], reviewer, "approved", "just coffee")
    (item,) = lists_vigil.hashlists.show(ADMIN, "approved")["item_page"]
    assert item["labels"] == ["Explicit"]

    again = upload(lists_vigil, uploader, encode(data.coffee()), "block-all")
    assert again["status"] == "approved"
    assert again["decision"]["rule"] == "hashlist.approved.allow"

    # The detectors still run, and another category still acts on the same image.
    strict = Policy(
        "strict", "1", "", bands={"Explicit": Band(block=0), "Violence": Band(block=50)}
    )
    image = lists_vigil.engine.decode(encode(data.coffee()))
    found = [Detection("Explicit", 90, "nsfw"), Detection("Weapons", 95, "objects")]
    result = lists_vigil.engine.decide(image, found, strict, default_context(strict), "x" * 64)
    assert result.decision.action == "block" and result.decision.label == "Weapons"
    assert "exempts Explicit" in result.decision.reason


def test_an_allow_match_is_tight_and_ignores_rotations(lists_vigil: Vigil) -> None:
    lists_vigil.hashlists.create(ADMIN, "brand", "allow")
    assert lists_vigil.hashlists.show(ADMIN, "brand")["distance"] == 10
    lists_vigil.hashlists.add_images(ADMIN, "brand", [_upload(encode(data.coffee()))])
    same = lists_vigil.engine.moderate(encode(data.coffee()), lists_vigil.policy("block-all"))
    assert same.decision.action == "allow"
    turned = encode(Image.fromarray(data.coffee()).rotate(90, expand=True))
    rotated = lists_vigil.engine.moderate(turned, lists_vigil.policy("block-all"))
    assert rotated.decision.action == "block"


def test_a_review_list_never_lowers_a_block(lists_vigil: Vigil) -> None:
    lists_vigil.hashlists.create(ADMIN, "maybe", "review")
    lists_vigil.hashlists.add_images(ADMIN, "maybe", [_upload(encode(data.coffee()))])
    decided = lists_vigil.engine.moderate(encode(data.coffee()), lists_vigil.policy("block-all"))
    assert decided.decision.action == "block" and decided.decision.rule.startswith("Explicit")


def test_flat_images_are_not_matched_below_the_quality_floor(lists_vigil: Vigil) -> None:
    flat = encode(Image.new("RGB", (300, 300), (90, 90, 90)))
    digest = hash_only(Image.new("RGB", (300, 300), (90, 90, 90)))
    lists_vigil.hashlists.create(ADMIN, "flat", "block")
    lists_vigil.hashlists.add_hashes(ADMIN, "flat", [digest.hex])
    decided = lists_vigil.engine.moderate(flat, lists_vigil.policy())
    assert not decided.decision.rule.startswith("hashlist")


def test_rejected_copies_can_go_to_review_instead(
    tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path
) -> None:
    chosen = {"hashlist_rejected_action": "review", "hashlist_refresh_seconds": 0}
    with running_vigil(tmp_path, nsfw_engine, policy_dir, **chosen) as vigil:
        uploader, reviewer = people(vigil)
        first = upload(vigil, uploader, encode(data.astronaut()), "review-all")
        vigil.assets.override(first["id"], reviewer, "rejected", "no")
        copy = upload(vigil, uploader, copy_of(data.astronaut()))
        assert copy["status"] == "review"
        assert copy["decision"]["rule"] == "hashlist.rejected.review"


def test_feedback_can_be_turned_off(
    tmp_path: Path, nsfw_engine: ModerationEngine, policy_dir: Path
) -> None:
    with running_vigil(tmp_path, nsfw_engine, policy_dir, hashlist_reject_feedback=False) as vigil:
        uploader, reviewer = people(vigil)
        first = upload(vigil, uploader, encode(data.astronaut()), "review-all")
        vigil.assets.override(first["id"], reviewer, "rejected", "no")
        assert vigil.hashlists.show(ADMIN, "rejected")["items"] == 0


def _upload(data_bytes: bytes) -> Upload:
    return Upload("photo.jpg", data_bytes)


def test_a_video_with_a_listed_frame_is_flagged_at_its_time(
    lists_vigil: Vigil, tmp_path: Path
) -> None:
    frames = scene_frames([("colorwheel", 2), ("coffee", 2)], (320, 240), 15, pan=False)
    lists_vigil.hashlists.create(ADMIN, "known", "block", "Hate Symbols")
    lists_vigil.hashlists.add_hashes(ADMIN, "known", [hash_only(frames[-1]).hex])
    path = write(tmp_path / "clip.mp4", encode_clip(frames))
    policy = lists_vigil.policy()
    report = moderate_video_file(path, MP4, lists_vigil.engine, policy, min_confidence=1)
    assert report.result is not None
    decision = report.result.decision
    assert decision.rule == "hashlist.known.block"
    assert "in the frame at" in decision.reason
    listed = [f.timestamp_ms for f in report.frames if "Hate Symbols" in _names(f.labels)]
    assert listed and min(listed) >= 1900 and max(listed) <= 4000
    (segment,) = [s for s in report.segments if s.name == "Hate Symbols"]
    assert segment.start_ms >= 1900


def _names(labels: Any) -> set[str]:
    return {label.name for label in labels}


def test_a_captioned_copy_of_a_rejected_image_is_blocked(lists_vigil: Vigil) -> None:
    uploader, reviewer = people(lists_vigil)
    first = upload(lists_vigil, uploader, encode(data.chelsea()), "review-all")
    lists_vigil.assets.override(first["id"], reviewer, "rejected", "harassment meme")
    meme = captioned(Image.fromarray(data.chelsea()), "look at him lol")
    copy = upload(lists_vigil, uploader, encode(np.asarray(meme)))
    assert copy["status"] == "rejected"
    assert copy["decision"]["rule"] == "hashlist.rejected.block"
    assert "margins cut" in copy["decision"]["reason"]
