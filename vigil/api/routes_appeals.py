"""Appeals: the uploader of a rejected asset asks a person to look again."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.appeals import AppealList
from vigil.api.schemas.review import ReviewItem

router = APIRouter(prefix="/v1/assets")


class AppealBody(BaseModel):
    message: str = Field(min_length=1, max_length=2000, description="Why the rejection is wrong")


@router.post("/{asset_id}/appeal", status_code=201, summary="Appeal a rejection")
def appeal(vigil: VigilDep, who: PrincipalDep, asset_id: str, body: AppealBody) -> ReviewItem:
    return ReviewItem.model_validate(vigil.appeals.appeal(who, asset_id, body.message))


@router.get("/{asset_id}/appeals", summary="The asset's appeals and their outcome")
def appeals(vigil: VigilDep, who: PrincipalDep, asset_id: str) -> AppealList:
    return AppealList.model_validate({"appeals": vigil.appeals.appeals(who, asset_id)})
