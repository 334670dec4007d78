"""Policies over HTTP: versions, activation, rollback. Reading needs any role; changing, admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from vigil.api.deps import INT64_MAX, PathInt, PrincipalDep, QueryInt, VigilDep
from vigil.api.policy_body import policy_text
from vigil.api.schemas.policies import (
    PolicyDetail,
    PolicyList,
    PolicyVersions,
    ShadowReport,
    SubmittedPolicy,
)
from vigil.service.access.principal import Role, require_role
from vigil.service.policies.shadow import shadow_report as report_shadow

router = APIRouter(prefix="/v1/policies")


@router.get("", summary="Every policy with its active version")
def list_policies(vigil: VigilDep, _who: PrincipalDep) -> PolicyList:
    return PolicyList.model_validate({"policies": vigil.policies.summary()})


@router.post("", status_code=201, summary="Submit a policy (YAML or JSON); a new version")
async def submit_policy(
    request: Request, vigil: VigilDep, who: PrincipalDep, activate: bool = True
) -> SubmittedPolicy:
    require_role(who, Role.ADMIN)
    text = await policy_text(request)
    return SubmittedPolicy.model_validate(
        vigil.policies.submit(text, who.key_id, activate=activate)
    )


@router.get("/{name}", summary="The active version, with its source")
def get_policy(vigil: VigilDep, _who: PrincipalDep, name: str) -> PolicyDetail:
    return PolicyDetail.model_validate(vigil.policies.describe(name))


@router.get("/{name}/versions", summary="Every version of a policy")
def list_versions(vigil: VigilDep, _who: PrincipalDep, name: str) -> PolicyVersions:
    return PolicyVersions.model_validate({"versions": vigil.policies.versions(name)})


@router.get("/{name}/versions/{version}", summary="One version, with its source")
def get_version(vigil: VigilDep, _who: PrincipalDep, name: str, version: PathInt) -> PolicyDetail:
    return PolicyDetail.model_validate(vigil.policies.describe(name, version))


@router.post("/{name}/activate", summary="Make a version the active one")
def activate(
    vigil: VigilDep,
    who: PrincipalDep,
    name: str,
    version: Annotated[int, Body(embed=True, ge=0, le=INT64_MAX)],
) -> PolicyDetail:
    require_role(who, Role.ADMIN)
    return PolicyDetail.model_validate(vigil.policies.activate(name, version, who.key_id))


@router.post("/{name}/rollback", summary="Activate the version before the active one")
def rollback(vigil: VigilDep, who: PrincipalDep, name: str) -> PolicyDetail:
    require_role(who, Role.ADMIN)
    return PolicyDetail.model_validate(vigil.policies.rollback(name, who.key_id))


class ShadowRequest(BaseModel):
    version: int | None = Field(
        None, ge=0, le=INT64_MAX, description="The version to shadow; null stops shadowing."
    )


@router.put("/{name}/shadow", summary="Evaluate a version in shadow on live traffic")
def set_shadow(vigil: VigilDep, who: PrincipalDep, name: str, body: ShadowRequest) -> PolicyDetail:
    require_role(who, Role.ADMIN)
    return PolicyDetail.model_validate(vigil.policies.set_shadow(name, body.version, who.key_id))


@router.get("/{name}/shadow/report", summary="Where the shadow's decisions differ")
def shadow_report(
    vigil: VigilDep, who: PrincipalDep, name: str, version: QueryInt = None
) -> ShadowReport:
    require_role(who, Role.ADMIN, Role.REVIEWER)
    vigil.policies.describe(name)  # PolicyNotFound for an unknown name
    return ShadowReport.model_validate(report_shadow(vigil.db, name, version))
