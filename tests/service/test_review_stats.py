"""The dashboard's figures on a seeded scenario whose answers are worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import update

from tests.conftest import Keys
from tests.images import astronaut_jpeg
from tests.review_helpers import add_policies
from vigil.app import Vigil
from vigil.detectors.base import Detection
from vigil.errors import InvalidParameter
from vigil.labels import build_labels
from vigil.service.access.keys import authenticate
from vigil.service.assets.uploads import UploadRequest
from vigil.service.core.windows import window
from vigil.service.policies.presets import UploadOptions
from vigil.service.review.people import PersonRole, Reviewer, person
from vigil.service.review.rows import decision_category
from vigil.service.review.stats import daily_csv, stats
from vigil.storage.tables import AssetRow, ReviewItemRow

ALICE = person("alice", PersonRole.REVIEWER)
BOB = person("bob", PersonRole.REVIEWER)
LENA = person("lena", PersonRole.LEAD)


def test_figures_for_a_seeded_scenario(vigil: Vigil, keys: Keys) -> None:
    """Six uploads: two for first pass (double review of Explicit), a QA-sampled allow, a
    QA-sampled block, a block that is appealed, and an allow nobody looks at."""
    add_policies(vigil)
    vigil.review.rules = replace(vigil.review.rules, double_categories=["Explicit"])
    uploader = authenticate(vigil.db, f"Bearer {keys.uploader}")
    review = vigil.review

    def upload(policy: str) -> str:
        request = UploadRequest("x.jpg", UploadOptions(policy=policy))
        return str(vigil.uploads.upload(astronaut_jpeg(), request, uploader)["id"])

    def work(who: Reviewer, queue: str, verdict: str, reason: str = "") -> str:
        item = review.claim_next(who, queue)
        assert item is not None
        review.decide(who, item["id"], verdict, reason)
        return str(item["id"])

    for policy in ("review-all", "review-all", "qa-allow", "qa-block", "block-all", "allow-all"):
        upload(policy)
    appealed = upload("block-all")
    vigil.appeals.appeal(uploader, appealed, "a portrait")

    first = work(ALICE, "first_pass", "approve")
    work(BOB, "first_pass", "approve")  # agrees on the first item
    second = work(ALICE, "first_pass", "approve")
    work(BOB, "first_pass", "reject", "nudity")  # disagrees: off to a lead
    assert first != second
    escalation = work(LENA, "escalation", "reject", "nudity")
    qa_one = work(ALICE, "qa", "reject", "nudity")  # the sampled allow: a false negative
    qa_two = work(ALICE, "qa", "reject", "nudity")  # the sampled block: confirmed
    appeal = work(ALICE, "appeal", "approve")  # the appealed block: a false positive

    # Times to decision, seeded: 60 s, 120 s, 300 s, 600 s, 900 s (mean 396, median 300).
    decided = datetime.combine(datetime.now(UTC).date(), time(1), UTC)
    for item_id, seconds in zip(
        (first, escalation, qa_one, qa_two, appeal), (60, 120, 300, 600, 900), strict=True
    ):
        with vigil.db.session() as session:
            session.execute(
                update(ReviewItemRow)
                .where(ReviewItemRow.id == item_id)
                .values(created_at=decided - timedelta(seconds=seconds), decided_at=decided)
            )

    figures = stats(vigil.db, window(None, None))
    assert figures["uploads_processed"] == 7
    assert (figures["auto_allowed"], figures["auto_blocked"], figures["sent_to_review"]) == (
        1,
        3,
        3,
    )
    assert figures["auto_blocked_share"] == round(3 / 7, 4)
    assert figures["decisions_timed"] == 5
    assert figures["mean_seconds_to_decision"] == 396.0
    assert figures["median_seconds_to_decision"] == 300.0
    assert (figures["double_reviewed"], figures["disagreements"]) == (2, 1)
    assert figures["disagreement_rate"] == 0.5
    explicit = next(row for row in figures["categories"] if row["category"] == "Explicit")
    assert explicit["blocked_checked"] == 2 and explicit["false_positives"] == 1
    assert explicit["false_positive_rate"] == 0.5
    allowed = [row for row in figures["categories"] if row["allowed_checked"]]
    assert sum(row["allowed_checked"] for row in allowed) == 1
    assert sum(row["false_negatives"] for row in allowed) == 1
    assert allowed[0]["false_negative_rate"] == 1.0
    today = figures["daily"][-1]
    assert today["processed"] == 7 and today["human_decisions"] == 8
    assert daily_csv(figures).splitlines()[-1] == f"{today['date']},7,1,3,3,8"


def test_a_rejection_counts_under_its_reasons_category(vigil: Vigil, keys: Keys) -> None:
    """Issue 16: a photo rejected for nudity, whose top label was Violence at 3.3%, was
    counted as a Violence false negative."""
    add_policies(vigil)
    uploader = authenticate(vigil.db, f"Bearer {keys.uploader}")
    request = UploadRequest("x.jpg", UploadOptions(policy="qa-allow"))
    asset_id = vigil.uploads.upload(astronaut_jpeg(), request, uploader)["id"]
    found = [Detection("Weapons", 3.3, "objects"), Detection("Bare Back", 1.2, "nudity")]
    weak = [label.to_dict() for label in build_labels(found)]
    with vigil.db.session() as session:  # the report's labels, built as the pipeline does
        session.execute(update(AssetRow).where(AssetRow.id == asset_id).values(labels=weak))
    item = vigil.review.claim_next(ALICE, "qa")
    assert item is not None and item["asset_id"] == asset_id
    vigil.review.decide(ALICE, item["id"], "reject", "nudity")

    figures = stats(vigil.db, window(None, None))
    by_name = {row["category"]: row for row in figures["categories"]}
    assert "Violence" not in by_name
    assert by_name["Explicit"]["allowed_checked"] == 1
    assert by_name["Explicit"]["false_negatives"] == 1
    decided = vigil.review.get(ALICE, item["id"])["decisions"]
    assert [decision["category"] for decision in decided] == ["Explicit"]


def test_a_decision_falls_back_to_the_assets_category() -> None:
    assert decision_category("reject", "sexual content", "Violence") == "Explicit"
    assert decision_category("reject", "weapons", "Explicit") == "Violence"  # a taxonomy label
    assert decision_category("reject", "spam", "Violence") == "Violence"  # names no category
    assert decision_category("approve", "nudity", "Violence") == "Violence"  # not a rejection


def test_the_window_is_checked(vigil: Vigil) -> None:
    with pytest.raises(InvalidParameter, match="YYYY-MM-DD"):
        window("yesterday", None)
    with pytest.raises(InvalidParameter, match="after"):
        window("2026-02-02", "2026-01-01")
    empty = stats(vigil.db, window("2020-01-01", "2020-01-03"))
    assert empty["uploads_processed"] == 0 and empty["auto_allowed_share"] is None
    assert [day["date"] for day in empty["daily"]] == ["2020-01-01", "2020-01-02", "2020-01-03"]
