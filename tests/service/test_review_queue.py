"""Queues derived from assets, claims and verdicts on both databases."""

from __future__ import annotations

from tests.images import astronaut_jpeg
from vigil.app import Vigil
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Role
from vigil.service.assets.uploads import UploadRequest
from vigil.service.policies.presets import UploadOptions
from vigil.service.review.people import PersonRole, person
from vigil.service.review.rows import asset_category, boxes, machine_action
from vigil.storage.tables import AssetRow

ALICE = person("alice", PersonRole.REVIEWER)
BOB = person("bob", PersonRole.REVIEWER)


def test_queues_claims_and_verdicts(on_both: Vigil) -> None:
    vigil = on_both
    uploader = authenticate(vigil.db, f"Bearer {create_key(vigil.db, Role.UPLOADER)}")
    for policy in ("review-all", "qa-block", "qa-allow", "allow-all"):
        request = UploadRequest("x.jpg", UploadOptions(policy=policy))
        vigil.uploads.upload(astronaut_jpeg(), request, uploader)
    review = vigil.review
    assert review.sync() == 3
    assert review.sync() == 0  # derived once
    sizes = {queue["queue"]: queue["size"] for queue in review.queues(ALICE)}
    assert sizes == {"first_pass": 1, "appeal": 0, "qa": 2, "escalation": 0}
    mine = review.claim_next(ALICE, "first_pass")
    assert mine is not None and review.claim_next(BOB, "first_pass") is None
    done = review.decide(ALICE, mine["id"], "reject", "nudity", "note")
    assert done["asset"]["status"] == "rejected"
    first_qa = review.claim_next(ALICE, "qa")
    assert first_qa is not None
    second_qa = review.claim_next(BOB, "qa")
    assert second_qa is not None and second_qa["id"] != first_qa["id"]
    skipped_to = review.claim_next(ALICE, "qa", skip=first_qa["id"])
    assert skipped_to is None  # nothing else to skip to: alice keeps her item


def test_boxes_and_categories_come_from_the_stored_detections() -> None:
    row = AssetRow(
        labels=[{"Name": "Graphic Violence", "Confidence": 70.0}],
        decision=None,
        detections=[
            {
                "Detector": "nudity",
                "Name": "Exposed Male Nipple",
                "Confidence": 80.0,
                "BoundingBox": {"Left": 0.1, "Top": 0.2, "Width": 0.3, "Height": 0.4},
            },
            {
                "Detector": "nudity",
                "Name": "Belly",
                "Confidence": 20.0,
                "BoundingBox": {"Left": 0.5, "Top": 0.5, "Width": 0.1, "Height": 0.1},
            },
            {"Detector": "nsfw", "Name": "Explicit", "Confidence": 90.0},
        ],
    )
    assert boxes(row, 50) == [
        {
            "name": "Exposed Male Nipple",
            "confidence": 80.0,
            "Left": 0.1,
            "Top": 0.2,
            "Width": 0.3,
            "Height": 0.4,
        }
    ]
    assert asset_category(row) == "Violence"  # no decision label: the strongest label's
    assert machine_action({"action": "review", "rule": "qa_sample"}) == "allow"
    assert machine_action({"action": "block", "rule": "Explicit.block"}) == "block"
