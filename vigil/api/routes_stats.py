"""Review and moderation figures (``GET /v1/stats``) and the audit log across assets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.service.access.principal import Role, require_role
from vigil.service.assets.audit_log import audit_events
from vigil.service.core.windows import window
from vigil.service.review.people import from_key
from vigil.service.review.stats import daily_csv, stats

router = APIRouter(prefix="/v1")


@router.get("/stats", summary="Uploads, shares, decision times, disagreement, error rates")
def get_stats(
    vigil: VigilDep,
    who: PrincipalDep,
    since: Annotated[str | None, Query(description="First day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="Last day, YYYY-MM-DD")] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    from_key(who)  # reviewers and admins
    figures = stats(vigil.db, window(since, until))
    if format == "csv":
        return Response(
            daily_csv(figures),
            media_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="vigil-stats.csv"'},
        )
    return figures


@router.get("/audit", summary="The audit log across assets, newest first (admin)")
def get_audit(
    vigil: VigilDep,
    who: PrincipalDep,
    asset_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    require_role(who, Role.ADMIN)  # admin-only: uploaders and reviewers are told so
    span = window(since, until) if since or until else None
    events = audit_events(
        vigil.db, asset_id=asset_id, actor=actor, action=action, span=span, limit=limit
    )
    return {"events": events}
