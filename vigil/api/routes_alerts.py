"""Alert rules over HTTP: admin only, since rules send mail to addresses of the admin's
choosing."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.alerts import AlertRule as AlertRuleOut
from vigil.api.schemas.alerts import AlertRuleList, AlertTest
from vigil.service.access.principal import Role, require_role
from vigil.service.notices.alert_rules import AlertRule

router = APIRouter(prefix="/v1/alerts")


class AlertRuleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    label: str = Field(description="A taxonomy label at any level; labels under it match too.")
    recipients: list[str] = Field(description="E-mail addresses.")
    min_confidence: float = Field(50.0, description="0-100; labels below this don't count.")
    min_labels: int = Field(1, description="Fire when at least this many labels match.")
    min_segments: int | None = Field(
        None, description="Video rules: fire when at least this many segments are flagged."
    )
    events: list[str] = Field(
        default_factory=list, description="Event types; empty: every asset decision."
    )
    enabled: bool = True

    def rule(self) -> AlertRule:
        return AlertRule(
            name=self.name,
            label=self.label,
            recipients=tuple(self.recipients),
            min_confidence=self.min_confidence,
            min_labels=self.min_labels,
            min_segments=self.min_segments,
            events=tuple(self.events),
            enabled=self.enabled,
        )


@router.post("", status_code=201, summary="Create an alert rule")
def create_rule(vigil: VigilDep, who: PrincipalDep, body: AlertRuleBody) -> AlertRuleOut:
    require_role(who, Role.ADMIN)
    return AlertRuleOut.model_validate(vigil.alerts.create(body.rule(), who.key_id))


@router.get("", summary="Every alert rule")
def list_rules(vigil: VigilDep, who: PrincipalDep) -> AlertRuleList:
    require_role(who, Role.ADMIN)
    return AlertRuleList.model_validate({"alerts": vigil.alerts.all()})


@router.delete(
    "/{rule_id}", status_code=204, summary="Delete an alert rule", response_class=Response
)
def delete_rule(vigil: VigilDep, who: PrincipalDep, rule_id: str) -> Response:
    require_role(who, Role.ADMIN)
    vigil.alerts.delete(rule_id)
    return Response(status_code=204)


@router.post("/{rule_id}/test", summary="Send a sample alert e-mail for a rule now")
def test_rule(vigil: VigilDep, who: PrincipalDep, rule_id: str) -> AlertTest:
    require_role(who, Role.ADMIN)
    return AlertTest.model_validate(vigil.alerts.test(rule_id))
