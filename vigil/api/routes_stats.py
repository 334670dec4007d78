"""Review and moderation figures (``GET /v1/stats``) and the audit log across assets."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.responses import TEXT, CsvResponse
from vigil.api.schemas.audit import AuditLog
from vigil.api.schemas.stats import Stats
from vigil.service.access.principal import Role, require_role
from vigil.service.assets.audit_log import audit_events
from vigil.service.core.windows import window
from vigil.service.review.people import from_key
from vigil.service.review.stats import daily, daily_csv, stats

router = APIRouter(prefix="/v1")


@router.get(
    "/stats",
    summary="Uploads, shares, decision times, disagreement, error rates",
    response_model=Stats,
    # format=csv answers the per-day figures as CSV instead.
    responses={200: {"content": {CsvResponse.media_type: TEXT}}},
)
def get_stats(
    vigil: VigilDep,
    who: PrincipalDep,
    since: Annotated[str | None, Query(description="First day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="Last day, YYYY-MM-DD")] = None,
    format: Literal["json", "csv"] = "json",
) -> Stats | Response:
    from_key(who)  # reviewers and admins
    span = window(since, until)
    if format == "csv":  # the daily rows only: the other figures are not computed
        return CsvResponse(
            daily_csv({"daily": daily(vigil.db, span)}),
            headers={"Content-Disposition": 'attachment; filename="vigil-stats.csv"'},
        )
    return Stats.model_validate(stats(vigil.db, span))


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
) -> AuditLog:
    require_role(who, Role.ADMIN)  # admin-only: uploaders and reviewers are told so
    span = window(since, until) if since or until else None
    events = audit_events(
        vigil.db, asset_id=asset_id, actor=actor, action=action, span=span, limit=limit
    )
    return AuditLog.model_validate({"events": events})
