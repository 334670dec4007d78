"""The FastAPI application: health, the native API, model loading and the worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from vigil import __version__
from vigil.api import docs_page, errors
from vigil.api.body_limit import BodyLimit
from vigil.api.last_resort import LastResort
from vigil.api.routes_alerts import router as alerts_router
from vigil.api.routes_appeals import router as appeals_router
from vigil.api.routes_archive import router as archive_router
from vigil.api.routes_assets import router as assets_router
from vigil.api.routes_jobs import router as jobs_router
from vigil.api.routes_keys import router as keys_router  # docs/keys.md
from vigil.api.routes_lists import router as lists_router  # hash lists
from vigil.api.routes_metrics import router as metrics_router
from vigil.api.routes_policies import router as policies_router
from vigil.api.routes_presets import router as presets_router
from vigil.api.routes_review import router as review_router
from vigil.api.routes_simulation import router as simulation_router
from vigil.api.routes_stats import router as stats_router
from vigil.api.routes_users import router as users_router
from vigil.api.routes_videos import router as videos_router
from vigil.api.routes_webhooks import router as webhooks_router
from vigil.api.schemas.health import Health, NotReady, Readiness
from vigil.api.security_headers import SecurityHeaders
from vigil.app import Vigil
from vigil.aws.routes import router as rekognition_router
from vigil.runtime.background import Background
from vigil.web import render as web

log = logging.getLogger(__name__)


def create_app(vigil: Vigil, *, run_worker: bool = True) -> FastAPI:
    """The app. Models load in a background thread so /healthz answers at once and /readyz
    turns ready when they are loaded."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The handlers' thread pool, which the database pool is sized to (vigil.app.pool_limits)
        to_thread.current_default_thread_limiter().total_tokens = vigil.settings.http_threads
        background = Background(vigil, concurrency=vigil.settings.worker_threads)
        if not vigil.engine.ready:
            threading.Thread(target=_load_models, args=(vigil, app), daemon=True).start()
        if run_worker:
            background.start()
        yield
        if run_worker:
            background.stop()

    # /docs is docs_page's own page, with Swagger UI served locally; ReDoc would need a CDN.
    app = FastAPI(
        title="vigil", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.vigil = vigil
    app.state.load_error = None
    errors.install(app)
    # Added last, so outermost: an unexpected error anywhere, the body limit included,
    # still answers in the error shape on a connection that stays open.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, vigil=vigil)
    app.add_middleware(LastResort)
    app.include_router(assets_router)
    app.include_router(videos_router)
    app.include_router(simulation_router)  # before policies: /suggest is not a policy name
    app.include_router(policies_router)
    app.include_router(presets_router)
    app.include_router(jobs_router)
    app.include_router(alerts_router)
    app.include_router(metrics_router)
    app.include_router(webhooks_router)
    app.include_router(lists_router)  # hash lists (docs/hashlists.md)
    app.include_router(appeals_router)
    app.include_router(review_router)
    app.include_router(stats_router)
    app.include_router(users_router)
    app.include_router(keys_router)  # docs/keys.md
    web.install(app)  # the review console at /review
    docs_page.install(app)  # /docs, working offline (docs/api.md)
    app.include_router(archive_router)
    app.include_router(rekognition_router)  # POST / with X-Amz-Target (docs/rekognition.md)

    @app.get("/healthz", summary="The process is up")
    def healthz() -> Health:
        return Health(status="ok")

    @app.get(
        "/readyz",
        summary="Models are loaded and requests can be served",
        response_model=Readiness,
        responses={503: {"model": NotReady, "description": "Loading, or no detector loaded"}},
    )
    def readyz() -> Readiness | JSONResponse:
        # Ready (200) once loading is over and at least one detector loaded; "degraded" when
        # some enabled detector failed, each one's state and error listed (docs/detectors.md).
        detectors = [slot.to_dict() for slot in vigil.engine.slots]
        if vigil.engine.ready:
            status = "degraded" if vigil.engine.failures else "ready"
            return Readiness.model_validate({"status": status, "detectors": detectors})
        failure = app.state.load_error
        message = f"loading models failed: {failure}" if failure else "models are loading"
        return JSONResponse(
            {"error": {"code": "NotReady", "message": message}, "detectors": detectors},
            status_code=503,
        )

    return app


def _load_models(vigil: Vigil, app: FastAPI) -> None:
    try:
        vigil.engine.load()
        log.info("models loaded: %s", vigil.engine.model_version)
    except Exception as exc:
        app.state.load_error = str(exc)
        log.exception("loading models failed")
