"""Every refusal as ``{"error": {"code", "message"}}`` with the right status."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from vigil.errors import VigilError
from vigil.storage.db import database_refusal

log = logging.getLogger(__name__)

HTTP_CODES = {404: "NotFound", 405: "MethodNotAllowed", 413: "ImageTooLarge"}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def refusal_response(refusal: VigilError) -> JSONResponse:
    """The error shape, with Retry-After (whole seconds, at least 1) for a refusal that says
    when to try again (ServiceBusy, TooManySignIns)."""
    answer = error_response(refusal.status, refusal.code, refusal.message)
    retry_after = getattr(refusal, "retry_after", None)
    if retry_after is not None:
        answer.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return answer


async def _vigil_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VigilError)
    return refusal_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return error_response(400, "InvalidParameter", problems or "invalid request")


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "HttpError")
    return error_response(exc.status_code, code, str(exc.detail))


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    """An unreachable database (DatabaseUnavailable), or one too busy to give a connection
    or a lock in time (ServiceBusy with Retry-After), instead of a 500."""
    assert isinstance(exc, SQLAlchemyError)
    refusal = database_refusal(exc)
    log.warning("database error answered %s: %s", refusal.code, exc)
    return refusal_response(refusal)


def install(app: FastAPI) -> None:
    app.add_exception_handler(VigilError, _vigil_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
