"""Policy simulation over HTTP: replay a candidate policy on stored assets, and thresholds
suggested by people's decisions. Admins and reviewers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.policy_body import policy_text
from vigil.api.schemas.simulation import SimulationReport, Suggestions
from vigil.service.access.principal import Role, require_role
from vigil.service.policies.simulation import parse_since, simulate_text
from vigil.service.policies.suggestions import suggest, suggestions_view

# Included before the policies router: GET /v1/policies/suggest would otherwise be taken for
# the policy named "suggest".
router = APIRouter(prefix="/v1/policies")


@router.get("/suggest", summary="Block and review thresholds suggested by people's decisions")
def suggest_thresholds(
    vigil: VigilDep,
    who: PrincipalDep,
    target_precision: float = 0.95,
    target_recall: float = 0.95,
    since: str | None = None,
) -> Suggestions:
    require_role(who, Role.ADMIN, Role.REVIEWER)
    start = parse_since(since)
    found = suggest(vigil.db, target_precision, start, target_recall=target_recall)
    view = suggestions_view(
        found, target_precision=target_precision, target_recall=target_recall, since=start
    )
    return Suggestions.model_validate(view)


@router.post("/{name}/simulate", summary="What a candidate policy would decide (not stored)")
async def simulate_policy(
    request: Request, vigil: VigilDep, who: PrincipalDep, name: str, since: str | None = None
) -> SimulationReport:
    require_role(who, Role.ADMIN, Role.REVIEWER)
    start = parse_since(since)
    text = await policy_text(request)
    # Seconds of CPU on a large database: off the event loop.
    report = await run_in_threadpool(
        simulate_text, vigil.db, vigil.policies, text, against=name, since=start
    )
    return SimulationReport.model_validate(report.to_dict())
