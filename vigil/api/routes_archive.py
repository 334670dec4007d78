"""The archive over HTTP: restore one asset's bytes (reviewer, admin), run a pass (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.archive import ArchiveRun
from vigil.api.schemas.assets import Asset

router = APIRouter(prefix="/v1")


@router.post("/assets/{asset_id}/restore", summary="Move an archived asset's bytes back")
def restore(vigil: VigilDep, who: PrincipalDep, asset_id: str) -> Asset:
    return Asset.model_validate(vigil.archive.restore(asset_id, who))


@router.post("/archive/run", summary="Archive what is due now (admin); returns the count")
def run(vigil: VigilDep, who: PrincipalDep) -> ArchiveRun:
    return ArchiveRun.model_validate(vigil.archive.run(who))
