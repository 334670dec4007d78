"""Policy versions over HTTP: submit, activate, roll back; decisions record the version."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.images import coffee_jpeg

STRICT_EXPLICIT = "name: house\ncategories:\n  Explicit: {block: 0}\n"
LENIENT = "name: house\ncategories:\n  Explicit: {block: 99}\n"


def submit(client: TestClient, keys: Keys, text: str, **params: str) -> dict[str, object]:
    response = client.post(
        "/v1/policies",
        headers={**keys.auth("admin"), "Content-Type": "application/yaml"},
        content=text,
        params=params,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def upload_status(client: TestClient, keys: Keys, policy: str) -> tuple[str, str]:
    asset = client.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("c.jpg", coffee_jpeg())},
        data={"policy": policy},
    ).json()
    return asset["status"], asset["decision"]["policy_version"]


def test_versions_activation_and_rollback_change_decisions(client: TestClient, keys: Keys) -> None:
    first = submit(client, keys, STRICT_EXPLICIT)
    assert (first["version"], first["active"], first["created"]) == (1, True, True)
    assert upload_status(client, keys, "house") == ("rejected", "1")

    second = submit(client, keys, LENIENT)
    assert second["version"] == 2
    assert upload_status(client, keys, "house") == ("approved", "2")

    again = submit(client, keys, LENIENT)
    assert (again["version"], again["created"]) == (2, False)  # same text: no new version

    rolled = client.post("/v1/policies/house/rollback", headers=keys.auth("admin")).json()
    assert rolled["active_version"] == 1
    assert upload_status(client, keys, "house") == ("rejected", "1")

    activated = client.post(
        "/v1/policies/house/activate", headers=keys.auth("admin"), json={"version": 2}
    ).json()
    assert activated["active_version"] == 2
    versions = client.get("/v1/policies/house/versions", headers=keys.auth("reviewer")).json()
    assert [(v["version"], v["active"]) for v in versions["versions"]] == [(1, False), (2, True)]
    old = client.get("/v1/policies/house/versions/1", headers=keys.auth("reviewer")).json()
    assert old["source"] == STRICT_EXPLICIT


def test_submitting_without_activating_and_as_json(client: TestClient, keys: Keys) -> None:
    submit(client, keys, STRICT_EXPLICIT)
    staged = submit(client, keys, LENIENT, activate="false")
    assert (staged["version"], staged["active"]) == (2, False)
    assert upload_status(client, keys, "house") == ("rejected", "1")
    as_json = client.post(
        "/v1/policies",
        headers=keys.auth("admin"),
        json={"name": "json-made", "categories": {"Violence": {"review": 40}}},
    )
    assert as_json.status_code == 201
    assert (
        "Violence"
        in client.get("/v1/policies/json-made", headers=keys.auth("admin")).json()["source"]
    )


def test_invalid_policies_leave_the_active_version_active(client: TestClient, keys: Keys) -> None:
    submit(client, keys, STRICT_EXPLICIT)
    bad = client.post(
        "/v1/policies",
        headers={**keys.auth("admin"), "Content-Type": "application/yaml"},
        content="name: house\ncategories:\n  Explicit Nudityy: {block: 10}\n",
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "InvalidPolicy"
    assert "did you mean 'Explicit Nudity'" in bad.json()["error"]["message"]
    assert client.get("/v1/policies/house", headers=keys.auth("admin")).json()["version"] == 1


def test_only_admins_change_policies_and_unknown_names_are_404(
    client: TestClient, keys: Keys
) -> None:
    response = client.post("/v1/policies", headers=keys.auth("reviewer"), content=STRICT_EXPLICIT)
    assert response.status_code == 403
    missing = client.post("/v1/policies/nope/rollback", headers=keys.auth("admin"))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PolicyNotFound"
    submit(client, keys, STRICT_EXPLICIT)
    first = client.post("/v1/policies/house/rollback", headers=keys.auth("admin"))
    assert first.status_code == 409 and first.json()["error"]["code"] == "InvalidTransition"
    names = client.get("/v1/policies", headers=keys.auth("uploader")).json()["policies"]
    assert {"default", "strict", "house"} <= {policy["name"] for policy in names}


def test_explain_says_why_in_words(client: TestClient, keys: Keys) -> None:
    asset = client.post(
        "/v1/assets",
        headers=keys.auth("uploader"),
        files={"file": ("c.jpg", coffee_jpeg())},
        data={"policy": "block-all"},
    ).json()
    client.post(
        f"/v1/assets/{asset['id']}/moderation",
        headers=keys.auth("reviewer"),
        json={"status": "approved", "reason": "a coffee cup"},
    )
    explained = client.get(f"/v1/assets/{asset['id']}/explain", headers=keys.auth("uploader"))
    text = explained.json()["explanation"]
    assert f"Asset {asset['id']} is approved." in text
    assert "Blocked (rejected into quarantine) by policy 'block-all' (version 1)." in text
    assert "from rejected to approved: a coffee cup." in text


def test_context_fields_choose_rules_and_bad_context_is_refused(
    client: TestClient, keys: Keys
) -> None:
    submit(
        client,
        keys,
        "name: kids\ncontext:\n  audience: adult\ncategories:\n  Explicit: {block: 99}\n"
        "rules:\n  - name: minors\n    when: {audience: [under_13]}\n"
        "    categories: {Explicit: {block: 0}}\n",
    )

    def post(**form: str) -> dict[str, object]:
        response = client.post(
            "/v1/assets",
            headers=keys.auth("uploader"),
            files={"file": ("c.jpg", coffee_jpeg())},
            data={"policy": "kids", **form},
        )
        body: dict[str, object] = response.json()
        return body

    assert post()["status"] == "approved"
    child = post(audience="under_13")
    assert child["status"] == "rejected"
    assert child["decision"]["context"]["audience"] == "under_13"  # type: ignore[index]
    refused = post(region="DE")  # the policy declares no region
    assert refused["error"]["code"] == "InvalidParameter"  # type: ignore[index]
    wrong = post(audience="toddlers")
    assert wrong["error"]["code"] == "InvalidParameter"  # type: ignore[index]


def test_context_as_a_json_field(client: TestClient, keys: Keys) -> None:
    def post(**form: str) -> dict[str, object]:
        body: dict[str, object] = client.post(
            "/v1/moderate",
            headers=keys.auth("uploader"),
            files={"file": ("c.jpg", coffee_jpeg())},
            data=form,
        ).json()
        return body

    decided = post(context='{"audience": "13_17"}')
    assert decided["decision"]["context"]["audience"] == "13_17"  # type: ignore[index]
    field_wins = post(context='{"audience": "13_17"}', audience="under_13")
    assert field_wins["decision"]["context"]["audience"] == "under_13"  # type: ignore[index]
    for bad in ("{not json", '["a"]', '{"audience": 13}'):
        assert post(context=bad)["error"]["code"] == "InvalidParameter"  # type: ignore[index]
