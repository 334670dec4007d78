from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vigil.errors import InvalidPolicy, PolicyNotFound
from vigil.policy.loader import (
    FastPolicyYamlLoader,
    PolicyStore,
    PolicyYamlLoader,
    parse_policy,
)
from vigil.policy.sources import policy_sources


def refusal(text: str) -> str:
    with pytest.raises(InvalidPolicy) as caught:
        parse_policy(text, source="p.yaml")
    return caught.value.message


def test_unknown_label_suggests_the_closest_name() -> None:
    message = refusal("name: x\ncategories:\n  Explict: {block: 80}\n")
    assert "unknown label 'Explict'" in message and "did you mean 'Explicit'" in message


def test_bad_yaml_reports_line_and_column() -> None:
    text = "name: x\ncategories:\n  Explicit: {block: 80}\n   bad: indent: here\n"
    assert "bad YAML at line 4, column 4" in refusal(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\ncategories:\n  Explicit: {block: 180}\n", "from 0 to 100"),
        ("name: x\ncategories:\n  Explicit: {review: 90, block: 80}\n", "above block"),
        ("name: x\ncategories:\n  Explicit: {warn: 80}\n", "'ignore' or a mapping"),
        ("name: x\ncategories:\n  Explicit: {block: true}\n", "from 0 to 100"),
        ("categories: {}\n", "'name'"),
        ("name: my policy\ncategories: {}\n", "letters, digits, '_' and '-'"),
        ("name: ../etc\ncategories: {}\n", "letters, digits, '_' and '-'"),
        ("- a list\n", "YAML mapping"),
        ("name: x\nthresholds: {}\n", "unknown top-level keys"),
    ],
)
def test_invalid_policies_are_refused_clearly(text: str, fragment: str) -> None:
    assert fragment in refusal(text)


def test_libyaml_reads_a_policy_as_pyyaml_does() -> None:
    """Policies are read with LibYAML's parser for speed (docs/speed.md, "CLI start-up"), with
    the same YAML 1.2 scalars as PyYAML's own."""
    scalars = "name: x\ncontext: {region: NO, audience: 13_17, at: 22:00, on: yes, n: 1.5e3}\n"
    for text in [scalars, *(source.text for source in policy_sources(None))]:
        fast = yaml.load(text, Loader=FastPolicyYamlLoader)
        assert fast == yaml.load(text, Loader=PolicyYamlLoader)


def test_a_refusal_is_worded_by_pyyaml_not_libyaml() -> None:
    # LibYAML says "found a tab character that violates indentation" here.
    message = refusal("name: x\n\tfoo: 1\n")
    assert (
        message
        == "p.yaml: bad YAML at line 2, column 1: found character '\\t' that cannot start any token"
    )


def test_version_changes_with_the_text() -> None:
    first = parse_policy("name: x\ncategories:\n  Explicit: {block: 80}\n")
    second = parse_policy("name: x\ncategories:\n  Explicit: {block: 81}\n")
    assert first.version != second.version


def test_store_has_builtins_and_directory_overrides(tmp_path: Path) -> None:
    (tmp_path / "default.yaml").write_text("name: default\ncategories:\n  Gambling: ignore\n")
    store = PolicyStore(tmp_path)
    assert {"default", "strict"} <= set(store.names())
    assert store.get("default").bands["Gambling"].ignore
    with pytest.raises(PolicyNotFound, match="known: default, strict"):
        store.get("nope")


def test_builtin_default_policy_blocks_explicit_and_ignores_male_nipples() -> None:
    policy = PolicyStore().get("default")
    assert policy.bands["Explicit"].block is not None
    assert policy.bands["Exposed Male Nipple"].ignore
