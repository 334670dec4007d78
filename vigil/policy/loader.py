"""Reading and validating policy YAML; finding policies by name."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from vigil.errors import InvalidPolicy, PolicyNotFound
from vigil.policy.model import Policy
from vigil.policy.parsing import parse_categories, parse_qa_sample, parse_triggers
from vigil.policy.parsing_context import NAME, parse_context, parse_rules
from vigil.policy.sources import policy_sources

# A policy nests a few levels (rules, their conditions, lists of values). PyYAML builds
# documents recursively, so a deeper one exhausts Python's stack: it is refused first.
MAX_DEPTH = 32
_OPENS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSES = (yaml.MappingEndEvent, yaml.SequenceEndEvent)

TOP_LEVEL_KEYS = frozenset(
    {"name", "description", "context", "categories", "rules", "review_triggers", "qa_sample"}
)


class PolicyYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars: only true/false are booleans and only plain decimals
    are numbers, so region NO (Norway), audience 13_17 and time 22:00 stay strings instead of
    YAML 1.1's false, 1317 and 1320."""


_YAML11_SCALARS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
PolicyYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _YAML11_SCALARS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PolicyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
PolicyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
PolicyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)


# PolicyYamlLoader's scalars read by LibYAML's parser where PyYAML was built with it (it
# usually is), several times faster than PyYAML's own: every `vigil` start that prepares the
# database parses the policies, 20 to 40 ms with PyYAML's parser (docs/speed.md, "CLI start-up").
FastPolicyYamlLoader: type[Any] = type(
    "FastPolicyYamlLoader",
    (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader,),
    {"yaml_implicit_resolvers": PolicyYamlLoader.yaml_implicit_resolvers},
)


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """A validated policy from YAML text; InvalidPolicy says what is wrong and where."""
    document = _load_yaml(text, source)
    name = document.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidPolicy(
            f"{source}: 'name' must be 1-64 letters, digits, '_' and '-', starting with a "
            "letter or digit"
        )
    unknown_keys = set(document) - TOP_LEVEL_KEYS
    if unknown_keys:
        raise InvalidPolicy(f"{source}: unknown top-level keys {sorted(unknown_keys)}")
    context = parse_context(document.get("context") or {}, source)
    return Policy(
        name=name,
        version=hashlib.sha256(text.encode()).hexdigest()[:12],
        description=str(document.get("description", "")),
        bands=parse_categories(document.get("categories", {}), source),
        context=context,
        rules=parse_rules(document.get("rules") or [], context, source),
        review_triggers=parse_triggers(document.get("review_triggers") or [], source),
        qa_percent=parse_qa_sample(document["qa_sample"], source)
        if "qa_sample" in document
        else 0.0,
    )


def stored_version(name: str, number: int, source: str) -> Policy:
    """Version ``number`` of policy ``name`` from the text the database stores for it."""
    return replace(parse_policy(source, source=f"{name} v{number}"), version=str(number))


def yaml_from_json(text: str, source: str = "the body") -> str:
    """A policy sent as JSON, as the YAML text every version is stored in (JSON is YAML, so
    errors come with line and column)."""
    try:
        _check_depth(text, source)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidPolicy(f"{source} is not valid JSON: {exc}") from exc
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _check_depth(text: str, source: str, loader: type[Any] = PolicyYamlLoader) -> None:
    """InvalidPolicy past MAX_DEPTH, from the parser's flat stream of events: nothing
    recursive runs before the depth is known."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, _OPENS):
            depth += 1
            if depth > MAX_DEPTH:
                raise InvalidPolicy(f"{source}: nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, _CLOSES):
            depth -= 1


_REREAD = object()


def _fast_load(text: str, source: str) -> Any:
    """The document as LibYAML reads it, or ``_REREAD`` where it refused the text: PyYAML's
    own parser then reads it again, so a refusal is worded exactly as it always was."""
    try:
        _check_depth(text, source, FastPolicyYamlLoader)
        return yaml.load(text, Loader=FastPolicyYamlLoader)
    except (yaml.YAMLError, InvalidPolicy, ValueError):  # ValueError: text LibYAML cannot take
        return _REREAD


def _load_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        document = _fast_load(text, source)
        if document is _REREAD:
            _check_depth(text, source)
            document = yaml.load(text, Loader=PolicyYamlLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InvalidPolicy(f"{source}: bad YAML{where}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise InvalidPolicy(f"{source}: bad YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidPolicy(f"{source}: a policy is a YAML mapping with 'name' and 'categories'")
    return document


class PolicyStore:
    """Policies by name straight from the files (no database): the built-in ones, overridden
    by files in an optional directory. The service uses the database's versions instead."""

    def __init__(self, extra_dir: Path | None = None) -> None:
        self._policies: dict[str, Policy] = {}
        for source in policy_sources(extra_dir):
            policy = parse_policy(source.text, source=source.origin)
            self._policies[policy.name] = policy

    def get(self, name: str) -> Policy:
        try:
            return self._policies[name]
        except KeyError:
            known = ", ".join(sorted(self._policies))
            raise PolicyNotFound(f"no policy named '{name}' (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._policies)
