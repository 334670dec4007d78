"""The job queue over HTTP (admin): list, inspect, requeue dead jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vigil.api.deps import PathInt, PrincipalDep, VigilDep
from vigil.api.schemas.jobs import Job, JobList, JobStats, Requeued
from vigil.service.access.principal import Role, require_role

router = APIRouter(prefix="/v1/jobs")


@router.get("", summary="Jobs, newest first")
def list_jobs(
    vigil: VigilDep,
    who: PrincipalDep,
    state: str | None = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JobList:
    require_role(who, Role.ADMIN)
    return JobList.model_validate(
        {"jobs": vigil.queue.list_jobs(state=state, kind=kind, limit=limit)}
    )


@router.get("/stats", summary="Jobs per state and kind; age of the oldest waiting job")
def stats(vigil: VigilDep, who: PrincipalDep) -> JobStats:
    require_role(who, Role.ADMIN)
    return JobStats.model_validate(vigil.queue.stats())


@router.post("/requeue-dead", summary="Requeue every dead job (optionally of one kind)")
def requeue_dead(vigil: VigilDep, who: PrincipalDep, kind: str | None = None) -> Requeued:
    require_role(who, Role.ADMIN)
    return Requeued(requeued=vigil.queue.requeue_dead(kind))


@router.get("/{job_id}", summary="One job")
def get_job(vigil: VigilDep, who: PrincipalDep, job_id: PathInt) -> Job:
    require_role(who, Role.ADMIN)
    return Job.model_validate(vigil.queue.get(job_id))


@router.post("/{job_id}/requeue", summary="Requeue a dead job with fresh attempts")
def requeue(vigil: VigilDep, who: PrincipalDep, job_id: PathInt) -> Job:
    require_role(who, Role.ADMIN)
    return Job.model_validate(vigil.queue.requeue(job_id))
