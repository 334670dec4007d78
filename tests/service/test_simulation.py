"""Simulation and threshold suggestions.

Replay is held to ``evaluate`` on random detections and contexts. Reports run on real uploads
(real detectors) where the outcome is forced by the test policies, and on rows inserted
directly where a test needs scores it can choose: the detectors' scores on real photos cannot
be steered to, say, 54.999."""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import pytest

from tests.conftest import TEST_POLICIES, Keys
from tests.decided_uploads import upload_and_decide
from tests.policy.helpers import FULL
from vigil import taxonomy
from vigil.app import Vigil
from vigil.detectors.base import Detection
from vigil.errors import InvalidParameter
from vigil.labels import build_labels
from vigil.policy.context import CONTEXT_KEYS, resolve_context
from vigil.policy.evaluate import evaluate
from vigil.policy.loader import parse_policy
from vigil.policy.model import Policy
from vigil.policy.replay import Replay, StoredContext, direct_scores
from vigil.service.access.keys import authenticate
from vigil.service.access.principal import Principal
from vigil.service.policies.simulation import parse_since, simulate
from vigil.service.policies.suggestions import suggest
from vigil.storage.tables import AssetRow, AuditEventRow

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def builtin(name: str) -> Policy:
    text = (resources.files("vigil.policy.policies") / f"{name}.yaml").read_text()
    return parse_policy(text, source=name)


# -- replay gives evaluate's answer -----------------------------------------------------------

STORED_VALUES: dict[str, list[str | None]] = {
    "region": [None, "DE", "US", "FR"],
    "audience": [None, "adult", "under_13", "13_17"],
    "surface": [None, "chat", "profile_photo", "marketplace_listing", "forum"],
    "trust": [None, "new", "normal", "trusted", "vip"],
}
LABELS = sorted(taxonomy.LABELS)


def random_asset(rng: random.Random) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Detections (integer scores now and then, so equal ranks happen) and a stored context."""
    detections = [
        Detection(
            rng.choice(LABELS),
            rng.choice([float(rng.randrange(0, 101, 5)), rng.uniform(0, 100), 0.0, 100.0]),
            rng.choice(["nsfw", "graphic", "nudity"]),
        ).to_dict()
        for _ in range(rng.randint(1, 6))
    ]
    moment = NOW + timedelta(minutes=rng.randrange(0, 24 * 60))
    context = {key: rng.choice(values) for key, values in STORED_VALUES.items()}
    context["now"] = moment.isoformat()
    context["content_types"] = rng.choice([[], ["Animated"], ["Illustrated", "Animated"]])
    return detections, context


def reference(
    policy: Policy, detections: list[dict[str, Any]], stored: Mapping[str, Any], key: str
) -> tuple[str, str | None]:
    """``evaluate`` itself, with each stored value the policy accepts (as a request would
    give it) and the policy's default for the others."""
    now = datetime.fromisoformat(stored["now"])
    raw: dict[str, str] = {}
    for name in CONTEXT_KEYS:
        value = stored.get(name)
        if value is None or name not in policy.context:
            continue
        try:
            resolve_context(policy, {name: value}, now)
        except InvalidParameter:
            continue
        raw[name] = value
    context = resolve_context(policy, raw, now, stored["content_types"])
    labels = build_labels(Detection.from_dict(found) for found in detections)
    decision = evaluate(labels, policy, context=context, sample_key=key)
    return decision.action, decision.label


EVERY_ACTION = {"allow", "review", "block"}


@pytest.mark.parametrize(
    ("policy", "actions"),
    [
        (FULL, EVERY_ACTION),  # context keys with values, rules, time, triggers, QA sample
        (builtin("default"), EVERY_ACTION),
        (builtin("strict"), EVERY_ACTION),
        (parse_policy(TEST_POLICIES["block-all"]), {"allow", "block"}),  # thresholds at 0
    ],
    ids=lambda value: value.name if isinstance(value, Policy) else "",
)
def test_replay_gives_evaluates_action_and_label(policy: Policy, actions: set[str]) -> None:
    rng = random.Random(7)
    replay = Replay(policy)
    seen = set()
    for number in range(600):
        detections, stored = random_asset(rng)
        key = f"asset-{number}"
        got = replay.verdict(direct_scores(detections), StoredContext.read(stored, NOW), key)
        assert got == reference(policy, detections, stored, key), (detections, stored)
        seen.add(got[0])
    assert seen == actions


TIES = parse_policy(
    "name: ties\ncategories:\n  Explicit: {block: 80}\n  Violence: {block: 80}\n"
    "  Blood & Gore: ignore\n  Exposed Male Nipple: ignore\n"
)


@pytest.mark.parametrize(
    ("scores", "label"),
    [
        # Equal action, score and level: evaluate meets the higher merged confidence first...
        ({"Explicit Nudity": 90, "Graphic Violence": 90, "Blood & Gore": 99}, "Graphic Violence"),
        # ...and by name when those are equal too.
        ({"Graphic Violence": 90, "Explicit Nudity": 90}, "Explicit Nudity"),
        ({"Explicit": 85, "Violence": 95}, "Violence"),  # the higher score
        ({"Explicit": 90, "Exposed Female Nipple": 90}, "Exposed Female Nipple"),  # deeper
        ({"Exposed Male Nipple": 99, "Explicit": 10}, None),  # ignored: nothing fires
    ],
)
def test_replay_breaks_ties_as_evaluate_does(scores: dict[str, float], label: str | None) -> None:
    detections = [Detection(name, score, "test").to_dict() for name, score in scores.items()]
    stored = {"now": NOW.isoformat(), "content_types": []}
    got = Replay(TIES).verdict(direct_scores(detections), StoredContext.read(stored, NOW), None)
    assert got[1] == label
    assert got == reference(TIES, detections, stored, "k")


CANDIDATE = parse_policy(
    "name: teens\ncontext:\n  audience: {default: adult, values: [adult, 13_17]}\n"
    "categories:\n  Explicit: {block: 90}\n"
    "rules:\n  - name: teens\n    when: {audience: 13_17}\n"
    "    categories: {Explicit: {block: 40}}\n"
)


@pytest.mark.parametrize(
    ("stored", "action", "fallbacks"),
    [
        ({"audience": "13_17"}, "block", 0),  # accepted: the rule applies
        ({"audience": "adult"}, "allow", 0),
        ({"audience": None}, "allow", 0),  # not given: the default, no fallback
        ({"audience": "under_13"}, "allow", 1),  # refused: the default, counted
        ({"audience": "under_13", "region": "DE"}, "allow", 1),  # undeclared keys don't count
        ({"region": "DE"}, "allow", 0),
    ],
)
def test_stored_context_values_the_policy_refuses_fall_back_to_its_defaults(
    stored: dict[str, Any], action: str, fallbacks: int
) -> None:
    replay = Replay(CANDIDATE)
    for _ in range(2):  # the second asset comes from the cache and still counts
        got = replay.verdict({"Explicit": 60.0}, StoredContext.read(stored, NOW), None)
        assert got[0] == action
    assert replay.fallbacks == 2 * fallbacks


NIGHT = datetime(2025, 1, 15, 22, 0, tzinfo=UTC)  # 23:00 in Berlin


@pytest.mark.parametrize(
    ("stored", "created", "action"),
    [
        ({"region": "DE", "now": NIGHT.isoformat()}, NOW, "review"),  # FULL's de-night rule
        ({"region": "DE"}, NIGHT, "review"),  # no stored time: the upload time
        ({"region": "DE", "now": NOW.isoformat()}, NIGHT, "allow"),  # the stored time wins
        ({"region": "US", "now": NIGHT.isoformat()}, NOW, "allow"),
        (None, NIGHT, "allow"),  # no stored context at all: the defaults (region US)
    ],
)
def test_time_rules_replay_at_the_time_of_the_decision(
    stored: dict[str, Any] | None, created: datetime, action: str
) -> None:
    context = StoredContext.read(stored, created)
    assert Replay(FULL).verdict({"Graphic Violence": 40.0}, context, None)[0] == action


# -- the time window ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", NOW - timedelta(days=30)),
        ("12h", NOW - timedelta(hours=12)),
        (" 2w ", NOW - timedelta(weeks=2)),
        ("2025-05-01", datetime(2025, 5, 1, tzinfo=UTC)),
        ("2025-05-01T10:00:00+02:00", datetime(2025, 5, 1, 8, 0, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_since_accepts_spans_and_iso_dates(text: str | None, expected: datetime | None) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize(
    "text", ["30", "30x", "-1d", "d", "yesterday", "2025-13-01", "999999w", "1234567d"]
)
def test_since_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidParameter, match="since"):
        parse_since(text, NOW)


# -- reports on real uploads ------------------------------------------------------------------


def principal(vigil: Vigil, secret: str) -> Principal:
    return authenticate(vigil.db, f"Bearer {secret}")


def test_report_on_real_uploads_counts_changes_and_agreement(vigil: Vigil, keys: Keys) -> None:
    assert upload_and_decide(vigil, keys) == 4

    block_all, review_all = vigil.policies.get("block-all"), vigil.policies.get("review-all")
    simulated = simulate(vigil.db, review_all, block_all, None)
    report = simulated.to_dict()

    assert report["total"] == 4
    assert report["active_actions"]["block"] == {"count": 4, "share": 1.0}
    assert report["candidate_actions"]["review"] == {"count": 4, "share": 1.0}
    assert report["changed"] == {
        "count": 4,
        "share": 1.0,
        "by_transition": [{"from": "block", "to": "review", "count": 4}],
    }
    active = report["people"]["active"]
    assert (active["decided"], active["agreed"], active["false_positives"]) == (3, 1, 2)
    assert active["agreement"] == round(1 / 3, 4)
    assert active["by_category"] == {
        "Explicit": {"false_positives": 2, "false_negatives": 0, "sent_to_review": 0}
    }
    candidate = report["people"]["candidate"]
    assert (candidate["sent_to_review"], candidate["agreement"]) == (3, None)
    summary = simulated.summary()
    assert "4 decisions change (100.0%)" in summary
    assert "Candidate: sends all 3 to review." in summary
    assert "Active: agrees on 33.3% of the 3 it decides itself (2 false positives" in summary

    same = simulate(vigil.db, block_all, block_all, None).to_dict()
    assert same["changed"]["count"] == 0
    future = simulate(vigil.db, review_all, block_all, datetime.now(UTC) + timedelta(hours=1))
    assert future.total == 0


# -- reports and suggestions on chosen scores -------------------------------------------------


class Rows:
    """Assets and overrides written straight into the tables, with chosen scores."""

    def __init__(self, vigil: Vigil, keys: Keys) -> None:
        self.vigil = vigil
        self.owner = principal(vigil, keys.uploader).key_id

    def add(
        self,
        scores: Mapping[str, float],
        *,
        people: tuple[str, ...] = (),
        context: Mapping[str, Any] | None = None,
        age: timedelta = timedelta(0),
    ) -> str:
        asset_id = secrets.token_hex(12)
        created = datetime.now(UTC) - age
        detections = [Detection(name, score, "test").to_dict() for name, score in scores.items()]
        decision = {"action": "allow", "rule": "default", "policy": "x", "policy_version": "1"}
        if context is not None:
            decision["context"] = dict(context)
        with self.vigil.db.session() as session:
            session.add(_asset(asset_id, self.owner, detections, decision, created))
            session.flush()
            for status in people:
                session.add(_override(asset_id, status, created))
        return asset_id


def _asset(
    asset_id: str,
    owner: str,
    detections: list[dict[str, Any]],
    decision: dict[str, Any],
    created: datetime,
) -> AssetRow:
    return AssetRow(
        id=asset_id,
        owner_key_id=owner,
        filename="x.jpg",
        format="JPEG",
        mime="image/jpeg",
        size_bytes=1,
        width=64,
        height=64,
        sha256=asset_id,
        status="approved",
        moderation_mode="auto",
        storage_area="originals",
        labels=[],
        detections=detections,
        content_types=[],
        model_version="test",
        decision=decision,
        created_at=created,
        updated_at=created,
    )


def _override(asset_id: str, status: str, created: datetime) -> AuditEventRow:
    return AuditEventRow(
        asset_id=asset_id,
        actor="someone",
        action="override",
        from_status=None,
        to_status=status,
        reason="",
        created_at=created,
    )


@pytest.fixture
def rows(vigil: Vigil, keys: Keys) -> Rows:
    return Rows(vigil, keys)


def test_report_files_misses_under_the_nearest_category_and_honours_since(
    vigil: Vigil, rows: Rows
) -> None:
    candidate = parse_policy(
        "name: c\ncontext:\n  audience: {default: adult, values: [adult]}\n"
        "categories:\n  Explicit: {block: 80}\n  Violence: {review: 50, block: 90}\n"
    )
    rows.add({"Explicit": 10, "Graphic Violence": 40}, people=("rejected",))  # FN, Violence
    rows.add({"Explicit": 85}, people=("approved",))  # FP, Explicit
    rows.add({"Graphic Violence": 60}, people=("rejected",))  # sent to review, Violence
    rows.add({"Explicit": 95}, people=("rejected",))  # agreed
    rows.add({"Explicit": 5}, context={"audience": "under_13"})  # refused value: default
    rows.add({"Explicit": 99}, people=("approved",), age=timedelta(days=40))  # before since

    report = simulate(vigil.db, candidate, builtin("default"), parse_since("30d"))
    people = report.to_dict()["people"]["candidate"]
    assert report.total == 5
    assert (people["decided"], people["agreed"], people["agreement"]) == (4, 1, round(1 / 3, 4))
    assert people["by_category"] == {
        "Explicit": {"false_positives": 1, "false_negatives": 0, "sent_to_review": 0},
        "Violence": {"false_positives": 0, "false_negatives": 1, "sent_to_review": 1},
    }
    assert report.context_fallbacks == 1
    everything = simulate(vigil.db, candidate, builtin("default"), None)
    assert everything.total == 6
    assert everything.candidate_people.outcomes["false_positives"] == 2


def violence_history(rows: Rows) -> None:
    """30 decided assets scored 40..69 for violence (rejected from 55 on, except at 60), one
    approved at 54.999, and a low Explicit score on each, as open_nsfw gives every photo."""
    for score in range(40, 70):
        person = "rejected" if score >= 55 and score != 60 else "approved"
        rows.add({"Graphic Violence": score, "Explicit": 5}, people=(person,))
    rows.add({"Graphic Violence": 54.999, "Explicit": 5}, people=("rejected", "approved"))
    rows.add({"Graphic Violence": 99, "Explicit": 5})  # nobody decided it: not counted


@pytest.mark.parametrize(
    ("precision", "recall", "minimum", "block", "review", "notes"),
    [
        # 55..69: 15 decided, 14 rejected (0.933); 54.999 is below 55, not at it.
        (0.9, 0.9, 10, (55, 15, 0.9333, 1.0), None, ["the block threshold alone reaches"]),
        # 61..69: all 9 rejected; 13 of the 14 rejected are at or above 56.
        (0.99, 0.9, 5, (61, 9, 1.0, 0.6429), (56, 14, 0.9286, 0.9286), []),
        (0.99, 0.9, 10, None, (56, 14, 0.9286, 0.9286), ["only reached at 61, by 9"]),
        (0.9, 0.9, 50, None, None, ["not enough decisions (31 < 50)"]),
    ],
)
def test_suggested_thresholds(
    vigil: Vigil,
    rows: Rows,
    precision: float,
    recall: float,
    minimum: int,
    block: tuple[int, int, float, float] | None,
    review: tuple[int, int, float, float] | None,
    notes: list[str],
) -> None:
    violence_history(rows)
    found = {
        s.category: s
        for s in suggest(vigil.db, precision, None, target_recall=recall, minimum=minimum)
    }
    assert list(found) == list(taxonomy.ALL_TOP_LEVEL)
    violence = found["Violence"]
    assert (violence.decided, violence.rejected, violence.recall_base) == (31, 14, 14)

    def shown(threshold: Any) -> tuple[int, int, float, float | None] | None:
        if threshold is None:
            return None
        return (threshold.value, threshold.support, threshold.precision, threshold.recall)

    assert (shown(violence.block), shown(violence.review)) == (block, review)
    assert len(violence.notes) == len(notes)
    assert all(note in said for note, said in zip(notes, violence.notes, strict=True))
    explicit = found["Explicit"]
    assert explicit.recall_base == 0 and explicit.block is None and explicit.review is None
    assert found["Gambling"].decided == 0


def test_suggestions_refuse_targets_outside_zero_to_one(vigil: Vigil) -> None:
    with pytest.raises(InvalidParameter, match="target_precision"):
        suggest(vigil.db, 1.5, None)
    with pytest.raises(InvalidParameter, match="target_recall"):
        suggest(vigil.db, 0.9, None, target_recall=0)
