"""The archive over HTTP: restore one asset's bytes (reviewer, admin), run a pass (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from vigil.api.deps import PrincipalDep, VigilDep

router = APIRouter(prefix="/v1")


@router.post("/assets/{asset_id}/restore", summary="Move an archived asset's bytes back")
def restore(vigil: VigilDep, who: PrincipalDep, asset_id: str) -> dict[str, Any]:
    return vigil.archive.restore(asset_id, who)


@router.post("/archive/run", summary="Archive what is due now (admin); returns the count")
def run(vigil: VigilDep, who: PrincipalDep) -> dict[str, int]:
    return vigil.archive.run(who)
