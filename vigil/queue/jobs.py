"""A job queue in the metadata database, with at-least-once delivery.

A claimed job carries a lease; the worker renews it while it works. A job whose lease runs
out (its worker died) is claimed again by the next worker. Failures retry with exponential
backoff until ``max_attempts``, then the job is dead until someone requeues it. On PostgreSQL
the claim uses ``FOR UPDATE SKIP LOCKED``, so any number of workers on any number of machines
take disjoint jobs; on SQLite the claim is one UPDATE statement, which takes the database's
write lock, so the worker processes of one machine take disjoint jobs too.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from vigil.errors import InvalidParameter, InvalidTransition, JobNotFound
from vigil.storage.db import Database
from vigil.storage.tables import JobRow

Clock = Callable[[], float]
# Told of a job buried because its worker was lost on the last attempt, with the reason.
LostHandler = Callable[["Job", str], None]
DONE_RETENTION_SECONDS = 7 * 24 * 3600  # finished jobs are kept a week for inspection


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # including the current one
    max_attempts: int


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 300.0

    def delay(self, attempts: int) -> float:
        """Exponential backoff with jitter: half the step fixed, half random, so retries of
        many jobs that failed together spread out."""
        step: float = min(
            self.backoff_max_seconds, self.backoff_seconds * 2 ** max(attempts - 1, 0)
        )
        return step / 2 + random.uniform(0, step / 2)


class JobQueue:
    def __init__(
        self,
        db: Database,
        *,
        lease_seconds: float = 60.0,
        retry: RetryPolicy | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.retry = retry or RetryPolicy()
        self.clock = clock

    # -- producing ---------------------------------------------------------------------------

    def enqueue(
        self,
        session: Session,
        kind: str,
        payload: dict[str, Any],
        *,
        max_attempts: int | None = None,
        delay: float = 0.0,
    ) -> int:
        """Add a job inside the caller's transaction, so the job exists exactly when the state
        change that needs it was committed."""
        now = self.clock()
        row = JobRow(
            kind=kind,
            payload=payload,
            state=JobState.QUEUED.value,
            attempts=0,
            max_attempts=max_attempts or self.retry.max_attempts,
            available_at=now + delay,
            last_error="",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return row.id

    # -- consuming ---------------------------------------------------------------------------

    def claim(
        self,
        worker: str,
        limit: int,
        kinds: Iterable[str] | None = None,
        on_lost: LostHandler | None = None,
    ) -> list[Job]:
        """Lease up to ``limit`` ready jobs (queued and due, or running with an expired lease).
        A job whose worker was lost on its last attempt is buried instead, and given to
        ``on_lost`` with the reason, so what it was working on can reach a final state."""
        now = self.clock()
        ready = or_(
            and_(JobRow.state == JobState.QUEUED.value, JobRow.available_at <= now),
            and_(JobRow.state == JobState.RUNNING.value, JobRow.leased_until < now),
        )
        candidates = select(JobRow.id).where(ready)
        if kinds is not None:
            candidates = candidates.where(JobRow.kind.in_(list(kinds)))
        candidates = (
            candidates.order_by(JobRow.available_at, JobRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return self._lease(JobRow.id.in_(candidates.scalar_subquery()), worker, now, on_lost)

    def claim_job(self, job_id: int, worker: str) -> Job | None:
        """Lease one particular job if it is still waiting (the synchronous upload path)."""
        now = self.clock()
        waiting = and_(
            JobRow.id == job_id, JobRow.state == JobState.QUEUED.value, JobRow.available_at <= now
        )
        jobs = self._lease(waiting, worker, now)
        return jobs[0] if jobs else None

    def _lease(
        self, where: Any, worker: str, now: float, on_lost: LostHandler | None = None
    ) -> list[Job]:
        statement = (
            update(JobRow)
            .where(where)
            .values(
                state=JobState.RUNNING.value,
                worker=worker,
                leased_until=now + self.lease_seconds,
                attempts=JobRow.attempts + 1,
                updated_at=now,
            )
            .returning(JobRow)
            .execution_options(synchronize_session=False)
        )
        with self.db.session() as session:
            rows = list(session.scalars(statement))
            # A job whose worker died max_attempts times is poison: stop handing it out.
            buried = [row for row in rows if row.attempts > row.max_attempts]
            for row in buried:
                _bury(row, f"lease expired {row.max_attempts} times (worker lost)", now)
            ended = [(_job(row), str(row.last_error)) for row in buried]
        for job, reason in ended:
            if on_lost is not None:
                on_lost(job, reason)
        claimed = [_job(row) for row in rows if row.state == JobState.RUNNING.value]
        return sorted(claimed, key=lambda job: job.id)  # RETURNING has no order

    def renew(self, job_ids: Sequence[int], worker: str) -> int:
        """Extend the leases this worker holds; returns how many it still holds."""
        if not job_ids:
            return 0
        now = self.clock()
        with self.db.session() as session:
            result = session.execute(
                update(JobRow)
                .where(*_held(job_ids, worker))
                .values(leased_until=now + self.lease_seconds, updated_at=now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def complete(self, job_id: int, worker: str) -> bool:
        """Mark done; False if the lease was lost meanwhile (another worker has the job)."""
        return self.complete_all([job_id], worker) == 1

    def complete_all(self, job_ids: Sequence[int], worker: str) -> int:
        """Mark jobs done in one transaction; returns how many this worker still held."""
        if not job_ids:
            return 0
        now = self.clock()
        with self.db.session() as session:
            result = session.execute(
                update(JobRow)
                .where(*_held(job_ids, worker))
                .values(state=JobState.DONE.value, finished_at=now, updated_at=now)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    def fail(self, job_id: int, worker: str, error: str) -> JobState | None:
        """Record a failed attempt: retry after a backoff, or dead after the last attempt.
        Returns the new state, or None if the lease was lost meanwhile."""
        now = self.clock()
        with self.db.session() as session:
            row = session.scalars(
                select(JobRow).where(*_held([job_id], worker)).with_for_update()
            ).first()
            if row is None:
                return None
            if row.attempts >= row.max_attempts:
                _bury(row, error, now)
            else:
                row.state = JobState.QUEUED.value
                row.available_at = now + self.retry.delay(row.attempts)
                row.leased_until = None
                row.worker = None
                row.last_error = error[:4000]
                row.updated_at = now
            return JobState(row.state)

    def release(self, job_ids: Sequence[int], worker: str) -> int:
        """Give jobs back untouched (a worker shutting down): not counted as an attempt."""
        if not job_ids:
            return 0
        now = self.clock()
        with self.db.session() as session:
            result = session.execute(
                update(JobRow)
                .where(*_held(job_ids, worker))
                .values(
                    state=JobState.QUEUED.value,
                    attempts=JobRow.attempts - 1,
                    available_at=now,
                    leased_until=None,
                    worker=None,
                    updated_at=now,
                )
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    # -- operating ---------------------------------------------------------------------------

    def requeue(self, job_id: int) -> dict[str, Any]:
        """Put a dead job back in the queue with a fresh set of attempts."""
        now = self.clock()
        with self.db.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"no job with id {job_id}")
            if row.state != JobState.DEAD.value:
                raise InvalidTransition(f"job {job_id} is {row.state}; only dead jobs requeue")
            _revive(row, now)
            return job_view(row)

    def requeue_dead(self, kind: str | None = None) -> int:
        now = self.clock()
        with self.db.session() as session:
            query = select(JobRow).where(JobRow.state == JobState.DEAD.value)
            if kind is not None:
                query = query.where(JobRow.kind == kind)
            rows = list(session.scalars(query.with_for_update()))
            for row in rows:
                _revive(row, now)
            return len(rows)

    def get(self, job_id: int) -> dict[str, Any]:
        with self.db.session() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(f"no job with id {job_id}")
            return job_view(row)

    def list_jobs(
        self, *, state: str | None = None, kind: str | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= 500:
            raise InvalidParameter("limit must be between 1 and 500")
        query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
        if state is not None:
            query = query.where(JobRow.state == _state(state).value)
        if kind is not None:
            query = query.where(JobRow.kind == kind)
        with self.db.session() as session:
            return [job_view(row) for row in session.scalars(query)]

    def stats(self) -> dict[str, Any]:
        """Jobs per state and kind, and the age in seconds of the oldest job waiting."""
        now = self.clock()
        with self.db.session() as session:
            counts = session.execute(
                select(JobRow.state, JobRow.kind, func.count()).group_by(JobRow.state, JobRow.kind)
            ).all()
            oldest = session.scalar(
                select(func.min(JobRow.created_at)).where(JobRow.state == JobState.QUEUED.value)
            )
        by_state: dict[str, dict[str, int]] = {state.value: {} for state in JobState}
        for state, kind, count in counts:
            by_state.setdefault(state, {})[kind] = int(count)
        return {
            "counts": by_state,
            "oldest_queued_age_seconds": max(0.0, now - oldest) if oldest is not None else 0.0,
        }

    def purge_finished(self, older_than: float = DONE_RETENTION_SECONDS) -> int:
        cutoff = self.clock() - older_than
        with self.db.session() as session:
            doomed = list(
                session.scalars(
                    select(JobRow).where(
                        JobRow.state == JobState.DONE.value, JobRow.finished_at < cutoff
                    )
                )
            )
            for row in doomed:
                session.delete(row)
            return len(doomed)


def _held(job_ids: Sequence[int], worker: str) -> tuple[Any, ...]:
    return (
        JobRow.id.in_(list(job_ids)),
        JobRow.worker == worker,
        JobRow.state == JobState.RUNNING.value,
    )


def _bury(row: JobRow, error: str, now: float) -> None:
    row.state = JobState.DEAD.value
    row.leased_until = None
    row.worker = None
    row.last_error = error[:4000]
    row.finished_at = now
    row.updated_at = now


def _revive(row: JobRow, now: float) -> None:
    row.state = JobState.QUEUED.value
    row.attempts = 0
    row.available_at = now
    row.finished_at = None
    row.updated_at = now


def _state(value: str) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        known = ", ".join(state.value for state in JobState)
        raise InvalidParameter(f"unknown job state '{value}' (known: {known})") from None


def _job(row: JobRow) -> Job:
    return Job(row.id, row.kind, dict(row.payload), row.attempts, row.max_attempts)


def job_view(row: JobRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "payload": row.payload,
        "state": row.state,
        "attempts": row.attempts,
        "max_attempts": row.max_attempts,
        "available_at": _iso(row.available_at),
        "leased_until": _iso(row.leased_until),
        "worker": row.worker,
        "last_error": row.last_error,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "finished_at": _iso(row.finished_at),
    }


def _iso(seconds: float | None) -> str | None:
    # Jobs store epoch seconds (they compare alike on SQLite and PostgreSQL); the API shows
    # every time as ISO 8601 UTC with +00:00, like vigil.service.core.times.iso.
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()
