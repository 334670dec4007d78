"""The job queue: jobs, their counts, requeueing."""

from __future__ import annotations

from pydantic import Field, JsonValue

from vigil.api.schemas.base import ApiModel
from vigil.service.core.times import Timestamp


class Job(ApiModel):
    id: int
    kind: str
    payload: dict[str, JsonValue] = Field(description="The job's input; its shape is per kind")
    state: str
    attempts: int
    max_attempts: int
    available_at: Timestamp
    leased_until: Timestamp | None
    worker: str | None
    last_error: str
    created_at: Timestamp
    updated_at: Timestamp
    finished_at: Timestamp | None


class JobList(ApiModel):
    jobs: list[Job]


class JobStats(ApiModel):
    counts: dict[str, dict[str, int]] = Field(description="Jobs per state, then per kind")
    oldest_queued_age_seconds: float


class Requeued(ApiModel):
    requeued: int = Field(description="How many dead jobs went back to the queue")
