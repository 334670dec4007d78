"""Evaluation metrics on hand-made samples, with figures worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.detectors.base import Detection
from vigil.errors import InvalidManifest
from vigil.labels import build_labels
from vigil.policy.loader import PolicyStore
from vigil.service.engine.evaluation import (
    Sample,
    category_actions,
    category_scores,
    evaluate_samples,
    pr_curve,
)
from vigil.service.engine.evaluation_run import read_manifest

SAMPLES = [
    # Explicit: a is a true positive, b a false negative, c a false positive, d and e negatives.
    Sample("a", "Exposed Female Nipple", {"Explicit": 95.0}, {"Explicit": "block"}, "block"),
    Sample("b", "Explicit", {"Explicit": 40.0}, {}, "allow"),
    Sample("c", "safe", {"Explicit": 60.0}, {"Explicit": "review"}, "review"),
    Sample("d", "safe", {"Explicit": 10.0}, {}, "allow"),
    Sample("e", "Weapons", {"Violence": 70.0, "Explicit": 5.0}, {"Violence": "review"}, "review"),
]


def test_counts_and_rates_per_category() -> None:
    result = evaluate_samples(SAMPLES)
    assert (result.files, result.reviewed, result.blocked) == (5, 2, 1)
    assert result.review_share == pytest.approx(0.4)
    assert result.block_share == pytest.approx(0.2)
    explicit, violence = result.categories  # in taxonomy order
    assert explicit.category == "Explicit"
    assert (explicit.positives, explicit.flagged, explicit.reviewed) == (2, 2, 1)
    counts = (explicit.true_positives, explicit.false_positives, explicit.false_negatives)
    assert counts == (1, 1, 1)
    assert (explicit.precision, explicit.recall, explicit.f1) == (0.5, 0.5, 0.5)
    assert explicit.false_positive_rate == pytest.approx(1 / 3)
    assert violence.category == "Violence"
    assert (violence.precision, violence.recall, violence.f1) == (1.0, 1.0, 1.0)
    assert violence.false_positive_rate == 0.0
    assert result.to_dict()["categories"][0]["false_positive_rate"] == 0.3333


def test_undefined_rates_and_unseen_categories() -> None:
    safe = [Sample("x", "safe"), Sample("y", "safe", {"Explicit": 30.0}, {"Explicit": "review"})]
    (explicit,) = evaluate_samples(safe).categories  # nothing else was flagged or labelled
    assert (explicit.precision, explicit.recall, explicit.f1) == (0.0, None, None)
    assert explicit.false_positive_rate == 0.5
    assert evaluate_samples([Sample("z", "safe")]).categories == []
    assert evaluate_samples([]).review_share is None


def test_precision_recall_curve_sweeps_every_score() -> None:
    points = [(p.threshold, p.precision, p.recall) for p in pr_curve("Explicit", SAMPLES)]
    assert points == [
        (95.0, 1.0, 0.5),
        (60.0, 0.5, 0.5),
        (40.0, pytest.approx(2 / 3), 1.0),
        (10.0, 0.5, 1.0),
        (5.0, 0.4, 1.0),
    ]
    assert pr_curve("Gambling", SAMPLES) == []  # no positives: recall is undefined


def test_category_actions_follow_the_policy_bands() -> None:
    policy = PolicyStore().get("default")
    labels = build_labels(
        [
            Detection("Exposed Buttocks or Anus", 83.0, "nudity"),  # Explicit: review 50-85
            Detection("Explicit", 3.0, "nsfw"),
            Detection("Exposed Male Nipple", 99.0, "nudity"),  # ignored by the default policy
            Detection("Weapons", 95.0, "plugin"),  # Weapons: review only, never blocked
        ]
    )
    assert category_actions(labels, policy) == {"Explicit": "review", "Violence": "review"}
    assert category_scores(labels) == {
        "Explicit": 83.0,
        "Non-Explicit Nudity of Intimate parts and Kissing": 99.0,
        "Violence": 95.0,
    }


def test_manifest_rows_and_refusals(tmp_path: Path) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,label\nphotos/a.jpg,Safe\nb.png, Exposed Female Nipple\n")
    rows = read_manifest(manifest)
    assert [(row.path, row.label, row.line) for row in rows] == [
        (tmp_path / "photos" / "a.jpg", "safe", 2),
        (tmp_path / "b.png", "Exposed Female Nipple", 3),
    ]
    manifest.write_text("path,label\na.jpg,safe\nb.jpg,nudes\n")
    with pytest.raises(InvalidManifest, match="line 3: unknown label 'nudes'"):
        read_manifest(manifest)
    manifest.write_text("file,truth\na.jpg,safe\n")
    with pytest.raises(InvalidManifest, match="columns path,label"):
        read_manifest(manifest)
    manifest.write_text("path,label\n")
    with pytest.raises(InvalidManifest, match="lists no files"):
        read_manifest(manifest)
    with pytest.raises(InvalidManifest, match="cannot read manifest"):
        read_manifest(tmp_path / "missing.csv")
