"""Policy simulation (what a candidate policy would decide on stored assets) and thresholds
suggested by people's decisions (docs/policy-simulation.md)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class PolicyRef(ApiModel):
    name: str
    version: str


class ActionShare(ApiModel):
    count: int
    share: float = Field(description="0-1 of the assets replayed")


class Transition(ApiModel):
    # "from" is a Python keyword: the field keeps its JSON name through its alias.
    model_config = ConfigDict(serialize_by_alias=True)

    from_: str = Field(alias="from")
    to: str
    count: int


class Changed(ApiModel):
    count: int
    share: float
    by_transition: list[Transition]


class Agreement(ApiModel):
    """One policy's would-be decisions against people's final ones."""

    decided: int
    agreed: int
    agreement: float | None = Field(description="Null when every decision went to review")
    false_positives: int
    false_negatives: int
    sent_to_review: int
    by_category: dict[str, dict[str, int]]


class PeopleAgreement(ApiModel):
    candidate: Agreement
    active: Agreement


class SimulationReport(ApiModel):
    candidate: PolicyRef
    active: PolicyRef
    since: Timestamp | None
    total: int = Field(description="Assets replayed")
    candidate_actions: dict[str, ActionShare] = Field(description="Per action: allow, ...")
    active_actions: dict[str, ActionShare]
    changed: Changed
    context_fallbacks: int
    people: PeopleAgreement


class Threshold(ApiModel):
    value: int = Field(description="0-100")
    support: int
    precision: float
    recall: float | None


class Suggestion(ApiModel):
    """Block and review thresholds for one top-level category."""

    category: str
    decided: int
    rejected: int
    recall_base: int
    block: Threshold | None
    review: Threshold | None
    notes: list[str]


class Suggestions(ApiModel):
    target_precision: float
    target_recall: float
    since: Timestamp | None
    min_decisions: int
    suggestions: list[Suggestion]
