"""Review queues over the API: listing, claiming, deciding, escalating, releasing, appeals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.review_helpers import add_policies, status_of, upload
from vigil.app import Vigil
from vigil.service.access.keys import create_key
from vigil.service.access.principal import Role
from vigil.service.core.events import DECIDED
from vigil.storage.blobs import Area


@pytest.fixture(autouse=True)
def policies(vigil: Vigil) -> None:
    add_policies(vigil)


def queues(client: TestClient, keys: Keys, role: str = "reviewer") -> dict[str, dict[str, Any]]:
    response = client.get("/v1/review/queues", headers=keys.auth(role))
    assert response.status_code == 200, response.text
    return {queue["queue"]: queue for queue in response.json()["queues"]}


def claim(client: TestClient, keys: Keys, queue: str, role: str = "reviewer") -> Any:
    response = client.post(f"/v1/review/queues/{queue}/claim", headers=keys.auth(role))
    assert response.status_code == 200, response.text
    return response.json()["item"]


def decide(
    client: TestClient, keys: Keys, item_id: str, role: str = "reviewer", **body: str
) -> Any:
    return client.post(f"/v1/review/items/{item_id}/decision", headers=keys.auth(role), json=body)


def test_queues_show_size_and_oldest_age(client: TestClient, keys: Keys) -> None:
    empty = queues(client, keys)
    assert set(empty) == {"first_pass", "appeal", "qa", "escalation"}
    assert empty["first_pass"]["size"] == 0 and empty["first_pass"]["oldest_age_seconds"] is None
    assert empty["escalation"]["allowed"] is False  # escalations are for leads and admins
    upload(client, keys, "review-all")
    upload(client, keys, "review-all")
    upload(client, keys, "qa-allow")
    upload(client, keys, "qa-block")
    upload(client, keys, "allow-all")  # decided by the machine: no queue
    found = queues(client, keys)
    assert found["first_pass"]["size"] == 2 and found["qa"]["size"] == 2
    assert found["first_pass"]["oldest_age_seconds"] >= 0
    assert queues(client, keys, "admin")["escalation"]["allowed"] is True


def test_claiming_gives_each_item_to_one_reviewer(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    asset_id = upload(client, keys, "review-all")
    first = claim(client, keys, "first_pass")
    assert first["asset_id"] == asset_id and first["state"] == "claimed"
    assert first["asset"]["status"] == "review" and first["claimed_by"]
    assert claim(client, keys, "first_pass", "admin") is None  # nobody else gets it
    assert claim(client, keys, "first_pass")["id"] == first["id"]  # the holder gets it again
    listed = client.get("/v1/review/queues/first_pass/items", headers=keys.auth("reviewer"))
    assert [item["id"] for item in listed.json()["items"]] == [first["id"]]


def test_uploader_keys_cannot_review(client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/review/queues", headers=keys.auth("uploader"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "Forbidden"


def test_approving_restores_the_asset_audits_and_fires_decided(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    vigil.settings.webhook_allow_private = True
    hook = {"url": "http://127.0.0.1:9/hooks", "events": [DECIDED]}
    assert client.post("/v1/webhooks", json=hook, headers=keys.auth("admin")).status_code == 201
    asset_id = upload(client, keys, "review-all")
    item = claim(client, keys, "first_pass")
    response = decide(client, keys, item["id"], decision="approve", note="a portrait")
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["state"] == "done" and done["outcome"] == "approve"
    assert done["asset"]["status"] == "approved"
    assert done["decisions"][0]["machine_action"] == "review"
    events = client.get(f"/v1/assets/{asset_id}/audit", headers=keys.auth("admin")).json()
    assert events["events"][-1]["action"] == "override"
    assert events["events"][-1]["reason"] == "review: approve; a portrait"
    log = client.get("/v1/webhooks/deliveries", headers=keys.auth("admin")).json()
    (delivery,) = log["deliveries"]
    assert delivery["event_type"] == DECIDED
    assert queues(client, keys)["first_pass"]["size"] == 0


def test_rejecting_needs_a_listed_reason_and_quarantines(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    asset_id = upload(client, keys, "review-all")
    item = claim(client, keys, "first_pass")
    refused = decide(client, keys, item["id"], decision="reject", reason="looks odd")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "InvalidParameter"
    response = decide(client, keys, item["id"], decision="reject", reason="nudity", note="x")
    assert response.status_code == 200, response.text
    assert status_of(vigil, asset_id) == "rejected"
    assert vigil.blobs.exists(Area.QUARANTINE, asset_id)
    content = client.get(f"/v1/assets/{asset_id}/content", headers=keys.auth("uploader"))
    assert content.status_code == 403 and content.json()["error"]["code"] == "AssetNotDeliverable"
    again = decide(client, keys, item["id"], decision="approve")
    assert again.status_code == 409 and again.json()["error"]["code"] == "ReviewItemClosed"


def test_deciding_without_the_claim_is_refused(client: TestClient, keys: Keys) -> None:
    upload(client, keys, "review-all")
    item = claim(client, keys, "first_pass")
    response = decide(client, keys, item["id"], "admin", decision="approve")
    assert response.status_code == 409 and response.json()["error"]["code"] == "ClaimNotHeld"
    missing = decide(client, keys, "nope", decision="approve")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ReviewItemNotFound"


def test_releasing_returns_the_item_to_the_queue(client: TestClient, keys: Keys) -> None:
    upload(client, keys, "review-all")
    item = claim(client, keys, "first_pass")
    released = client.post(f"/v1/review/items/{item['id']}/release", headers=keys.auth("reviewer"))
    assert released.status_code == 200 and released.json()["state"] == "open"
    assert claim(client, keys, "first_pass", "admin")["id"] == item["id"]
    refused = client.post(f"/v1/review/items/{item['id']}/release", headers=keys.auth("reviewer"))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "ClaimNotHeld"


def test_an_expired_claim_goes_to_the_next_reviewer(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    vigil.review.rules = replace(
        vigil.review.rules, claim_seconds=0.0
    )  # every claim is already over
    upload(client, keys, "review-all")
    item = claim(client, keys, "first_pass")
    assert claim(client, keys, "first_pass", "admin")["id"] == item["id"]
    response = decide(client, keys, item["id"], decision="approve")
    assert response.status_code == 409 and response.json()["error"]["code"] == "ClaimNotHeld"


def test_escalation_goes_to_leads(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    asset_id = upload(client, keys, "review-all")
    item = claim(client, keys, "first_pass")
    escalated = decide(client, keys, item["id"], decision="escalate", note="policy question")
    assert escalated.status_code == 200 and escalated.json()["outcome"] == "escalate"
    assert status_of(vigil, asset_id) == "review"  # still waiting, now for a lead
    refused = client.post("/v1/review/queues/escalation/claim", headers=keys.auth("reviewer"))
    assert refused.status_code == 403
    lead_item = claim(client, keys, "escalation", "admin")
    assert lead_item["message"] == "policy question" and lead_item["asset_id"] == asset_id
    again = decide(client, keys, lead_item["id"], "admin", decision="escalate")
    assert again.status_code == 400
    decided = decide(client, keys, lead_item["id"], "admin", decision="reject", reason="other")
    assert decided.status_code == 200 and status_of(vigil, asset_id) == "rejected"


def test_qa_samples_confirmed_or_overturned(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    blocked = upload(client, keys, "qa-block")
    allowed = upload(client, keys, "qa-allow")
    assert status_of(vigil, blocked) == "rejected" and status_of(vigil, allowed) == "review"
    first = claim(client, keys, "qa")
    decide(client, keys, first["id"], decision="reject", reason="nudity")
    second = claim(client, keys, "qa")
    decide(client, keys, second["id"], decision="reject", reason="nudity")
    assert status_of(vigil, blocked) == "rejected"  # confirmed, unchanged
    assert status_of(vigil, allowed) == "rejected"  # the machine had allowed it
    audit = client.get(f"/v1/assets/{blocked}/audit", headers=keys.auth("admin")).json()
    assert audit["events"][-1]["action"] == "confirmed"
    assert claim(client, keys, "qa") is None


def test_appeal_flow(client: TestClient, keys: Keys, vigil: Vigil) -> None:
    asset_id = upload(client, keys, "block-all")
    url = f"/v1/assets/{asset_id}/appeal"
    body = {"message": "this is a museum photo"}
    other = client.post(url, headers=keys.auth("other_uploader"), json=body)
    assert other.status_code == 404  # someone else's asset does not exist for them
    appealed = client.post(url, headers=keys.auth("uploader"), json=body)
    assert appealed.status_code == 201, appealed.text
    assert appealed.json()["queue"] == "appeal" and appealed.json()["message"] == body["message"]
    twice = client.post(url, headers=keys.auth("uploader"), json=body)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "AppealNotAllowed"
    assert queues(client, keys)["appeal"]["size"] == 1
    item = claim(client, keys, "appeal")
    assert item["message"] == body["message"]
    assert decide(client, keys, item["id"], decision="approve").status_code == 200
    assert status_of(vigil, asset_id) == "approved"
    assert vigil.blobs.exists(Area.ORIGINALS, asset_id)
    content = client.get(f"/v1/assets/{asset_id}/content", headers=keys.auth("uploader"))
    assert content.status_code == 200
    listed = client.get(f"/v1/assets/{asset_id}/appeals", headers=keys.auth("uploader")).json()
    assert [appeal["outcome"] for appeal in listed["appeals"]] == ["approve"]


def test_only_rejected_assets_can_be_appealed(client: TestClient, keys: Keys) -> None:
    asset_id = upload(client, keys, "allow-all")
    response = client.post(
        f"/v1/assets/{asset_id}/appeal", headers=keys.auth("uploader"), json={"message": "x"}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "AppealNotAllowed"
    empty = client.post(
        f"/v1/assets/{asset_id}/appeal", headers=keys.auth("uploader"), json={"message": ""}
    )
    assert empty.status_code == 400


def test_two_reviewers_who_disagree_go_to_a_lead(
    client: TestClient, keys: Keys, vigil: Vigil
) -> None:
    vigil.review.rules = replace(vigil.review.rules, double_categories=["Explicit"])
    second_reviewer = create_key(vigil.db, Role.REVIEWER)
    other = {"Authorization": f"Bearer {second_reviewer}"}
    asset_id = upload(client, keys, "review-all")
    item = claim(client, keys, "first_pass")
    assert item["reviews_needed"] == 2
    first = decide(client, keys, item["id"], decision="approve").json()
    assert first["state"] == "open" and status_of(vigil, asset_id) == "review"
    assert claim(client, keys, "first_pass") is None  # the first reviewer can't review twice
    second = client.post("/v1/review/queues/first_pass/claim", headers=other).json()["item"]
    body = {"decision": "reject", "reason": "nudity"}
    response = client.post(f"/v1/review/items/{second['id']}/decision", headers=other, json=body)
    assert response.json()["outcome"] == "disagreed" and status_of(vigil, asset_id) == "review"
    lead = claim(client, keys, "escalation", "admin")
    assert lead["message"].startswith("reviewers disagreed")
    decide(client, keys, lead["id"], "admin", decision="approve")
    assert status_of(vigil, asset_id) == "approved"


def test_a_plain_override_closes_the_first_pass_item(client: TestClient, keys: Keys) -> None:
    asset_id = upload(client, keys, "review-all")
    assert queues(client, keys)["first_pass"]["size"] == 1
    client.post(
        f"/v1/assets/{asset_id}/moderation",
        headers=keys.auth("admin"),
        json={"status": "approved"},
    )
    assert queues(client, keys)["first_pass"]["size"] == 0


def test_reasons_are_listed(client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/review/reasons", headers=keys.auth("reviewer"))
    assert "nudity" in response.json()["reasons"]


def test_stats_and_audit_endpoints(client: TestClient, keys: Keys) -> None:
    asset_id = upload(client, keys, "review-all")
    upload(client, keys, "block-all")
    item = claim(client, keys, "first_pass")
    decide(client, keys, item["id"], decision="approve")
    figures = client.get("/v1/stats", headers=keys.auth("reviewer")).json()
    assert figures["uploads_processed"] == 2 and figures["decisions_timed"] == 1
    csv = client.get("/v1/stats?format=csv", headers=keys.auth("reviewer"))
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("date,")
    refused = client.get("/v1/stats", headers=keys.auth("uploader"))
    assert refused.status_code == 403
    bad = client.get("/v1/stats?since=last-week", headers=keys.auth("admin"))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidParameter"
    audit = client.get(
        f"/v1/audit?asset_id={asset_id}&action=override", headers=keys.auth("admin")
    ).json()
    assert [event["asset_id"] for event in audit["events"]] == [asset_id]
    assert client.get("/v1/audit", headers=keys.auth("reviewer")).status_code == 403
