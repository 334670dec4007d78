"""Resolving a request's raw context against what a policy expects."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.policy.helpers import FULL, NOON
from vigil.errors import InvalidParameter
from vigil.policy.context import PolicyContext, resolve_context
from vigil.policy.loader import parse_policy
from vigil.policy.model import Policy

NO_CONTEXT = parse_policy("name: plain\ncategories: {}\n")

# (raw, expected region, audience, surface, trust)
RESOLVED = [
    ({}, "US", "adult", None, "normal"),
    ({"region": "DE"}, "DE", "adult", None, "normal"),
    ({"region": " de "}, "DE", "adult", None, "normal"),
    ({"audience": "13_17", "surface": "chat"}, "US", "13_17", "chat", "normal"),
    ({"trust": "new", "audience": "under_13"}, "US", "under_13", None, "new"),
]


@pytest.mark.parametrize(("raw", "region", "audience", "surface", "trust"), RESOLVED)
def test_request_values_over_policy_defaults(
    raw: dict[str, str], region: str, audience: str, surface: str | None, trust: str
) -> None:
    context = resolve_context(FULL, raw, NOON, ["Illustrated"])
    assert (context.region, context.audience, context.surface, context.trust) == (
        region,
        audience,
        surface,
        trust,
    )
    assert context.now == NOON and context.content_types == frozenset({"Illustrated"})


# (policy, raw, fragment of the InvalidParameter message)
REFUSED = [
    (FULL, {"colour": "red"}, "takes no context 'colour'"),
    (FULL, {"regoin": "DE"}, "did you mean 'region'"),
    (NO_CONTEXT, {"region": "DE"}, "it expects: none"),
    (FULL, {"region": "Germany"}, "not an ISO 3166-1 alpha-2"),
    (FULL, {"region": ""}, "not an ISO 3166-1 alpha-2"),
    (FULL, {"audience": "teens"}, "not an audience band"),
    (FULL, {"audience": "Adult"}, "not an audience band"),
    (FULL, {"surface": "feed"}, "not one of chat, marketplace_listing, profile_photo"),
    (FULL, {"trust": "vip"}, "not one of new, normal, trusted"),
    (FULL, {"trust": "bad name!"}, "not a name"),
]


@pytest.mark.parametrize(("policy", "raw", "fragment"), REFUSED)
def test_unexpected_keys_and_values_are_refused(
    policy: Policy, raw: dict[str, str], fragment: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        resolve_context(policy, raw, NOON)
    assert fragment in caught.value.message
    assert caught.value.status == 400


def test_now_must_be_aware_and_content_types_known() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_context(FULL, {}, datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="unknown content types"):
        resolve_context(FULL, {}, NOON, ["Photo"])
    with pytest.raises(ValueError, match="timezone-aware"):
        PolicyContext(now=datetime(2025, 1, 1))


def test_free_trust_names_with_a_declared_list() -> None:
    policy = parse_policy(
        "name: t\ncontext:\n  trust: {default: bronze, values: [bronze, silver, gold]}\n"
        "categories: {Explicit: {block: 80}}\nrules:\n"
        "  - {name: gold, when: {trust: gold}, categories: {Explicit: {block: 95}}}\n"
    )
    assert resolve_context(policy, {}, NOON).trust == "bronze"
    assert resolve_context(policy, {"trust": "gold"}, NOON).trust == "gold"
    with pytest.raises(InvalidParameter, match="not one of bronze, gold, silver"):
        resolve_context(policy, {"trust": "new"}, NOON)
