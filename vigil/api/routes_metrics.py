"""Prometheus metrics at /metrics, without authentication as scrapers expect: keep the path
off the public internet (docs/metrics.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vigil.api.deps import VigilDep
from vigil.api.responses import MetricsResponse
from vigil.metrics import render

router = APIRouter()


@router.get(
    "/metrics", summary="Prometheus metrics (no authentication)", response_class=MetricsResponse
)
def metrics(vigil: VigilDep) -> Response:
    return MetricsResponse(render(vigil.queue.stats))
