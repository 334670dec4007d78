"""Prometheus metrics at /metrics, without authentication as scrapers expect: keep the path
off the public internet (docs/metrics.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from vigil.api.deps import VigilDep
from vigil.metrics import CONTENT_TYPE, render

router = APIRouter()


@router.get("/metrics", summary="Prometheus metrics (no authentication)")
def metrics(vigil: VigilDep) -> Response:
    return Response(render(vigil.queue.stats), media_type=CONTENT_TYPE)
