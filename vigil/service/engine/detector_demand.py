"""Which detectors a policy needs: on-demand detectors (OCR, hand landmarks) run only for
uploads whose policy acts on one of their labels, so their cost is paid only where it counts."""

from __future__ import annotations

from collections.abc import Iterable

from vigil import taxonomy
from vigil.detectors.base import Detector
from vigil.policy.model import Policy


def acted_on(policy: Policy) -> frozenset[str]:
    """Every label name the policy has a band (not ``ignore``) or a review trigger for."""
    names: set[str] = set()
    for bands in (policy.bands, *(rule.bands for rule in policy.rules)):
        names.update(name for name, band in bands.items() if not band.ignore)
    names.update(trigger.label for trigger in policy.review_triggers)
    return frozenset(names)


def is_on_demand(detector: Detector) -> bool:
    """Detectors say so with a class attribute ``on_demand = True`` (docs/detectors.md)."""
    return bool(getattr(detector, "on_demand", False))


def needed(detector: Detector, policies: Iterable[Policy]) -> bool:
    """Whether any of ``policies`` needs ``detector``: always, unless it is on demand and none
    of them acts on one of its labels or on an ancestor of one."""
    return wanted(detector, acted_on_any(policies))


def acted_on_any(policies: Iterable[Policy]) -> frozenset[str]:
    return frozenset().union(*(acted_on(policy) for policy in policies))


def wanted(detector: Detector, acted: frozenset[str]) -> bool:
    """``needed``, given the label names the policies act on (computed once per upload)."""
    if not is_on_demand(detector):
        return True
    return any(
        name in acted for label in detector.labels for name in (label, *taxonomy.ancestors(label))
    )
