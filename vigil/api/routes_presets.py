"""Upload presets over HTTP. Reading needs any role; changing, admin."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.presets import Preset, PresetList
from vigil.service.access.principal import Role, require_role
from vigil.service.policies.presets import UploadOptions

router = APIRouter(prefix="/v1/upload-presets")


class PresetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    moderation: str | None = Field(None, description="auto, manual, none or an aws_rek string")
    policy: str | None = None
    context: dict[str, str] = Field(default_factory=dict)
    notification_url: str | None = None
    tags: list[str] = Field(default_factory=list)


@router.get("", summary="Every upload preset")
def list_presets(vigil: VigilDep, who: PrincipalDep) -> PresetList:
    return PresetList.model_validate({"presets": vigil.presets.all(who)})


@router.get("/{name}", summary="One upload preset")
def get_preset(vigil: VigilDep, who: PrincipalDep, name: str) -> Preset:
    return Preset.model_validate(vigil.presets.describe(name, who))


@router.put("/{name}", summary="Create or replace an upload preset")
def put_preset(vigil: VigilDep, who: PrincipalDep, name: str, body: PresetBody) -> Preset:
    require_role(who, Role.ADMIN)
    options = UploadOptions.from_dict(body.model_dump())
    return Preset.model_validate(vigil.presets.put(name, options, who.key_id))


@router.delete(
    "/{name}", status_code=204, summary="Delete an upload preset", response_class=Response
)
def delete_preset(vigil: VigilDep, who: PrincipalDep, name: str) -> Response:
    require_role(who, Role.ADMIN)
    vigil.presets.delete(name)
    return Response(status_code=204)
