"""The Rekognition-compatible endpoint: AWS JSON 1.1 at ``POST /``, the operation named by
``X-Amz-Target: RekognitionService.<Operation>``, requests verified with Signature Version 4
against access keys vigil issued (docs/rekognition.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from vigil.api.schemas.rekognition import AwsError, RekognitionOutput
from vigil.app import Vigil
from vigil.aws.errors import AwsJsonResponse, aws_error_response, aws_response
from vigil.aws.keys import identity
from vigil.aws.rekognition import MAX_IMAGE_BYTES, RekognitionService
from vigil.aws.sigv4 import SignedRequest, access_key_of, claimed_access_key, verify
from vigil.errors import InvalidParameter, VigilError
from vigil.service.access.principal import Principal
from vigil.storage.db import database_refusal

log = logging.getLogger(__name__)
router = APIRouter()

TARGET_PREFIX = "RekognitionService."
SERVICE = "rekognition"
# The largest body a Rekognition call needs: Image.Bytes arrives base64-encoded (4/3 of its
# size) inside the JSON, plus room for the other fields.
MAX_BODY_BYTES = MAX_IMAGE_BYTES * 4 // 3 + 1024 * 1024


@router.post(
    "/",
    summary="Amazon Rekognition's API: the operation named by X-Amz-Target (docs/rekognition.md)",
    description=(
        "AWS JSON 1.1, signed with Signature Version 4, for unmodified AWS SDKs. Answers "
        "DetectModerationLabels, StartContentModeration or GetContentModeration's output, "
        "as the X-Amz-Target header's operation chooses."
    ),
    response_class=AwsJsonResponse,
    # The answers are sent as the operations build them (boto3 parses that exact wire
    # format); the union documents each operation's output.
    response_model=RekognitionOutput,
    responses={400: {"model": AwsError, "description": "A refusal, in AWS's error shape"}},
)
async def rekognition(
    request: Request, x_amz_target: Annotated[str | None, Header()] = None
) -> JSONResponse:
    if x_amz_target is None:  # not an AWS call: POST / means nothing else in vigil
        raise HTTPException(404, "Not Found")
    body = await request.body()
    signed = SignedRequest(
        method=request.method,
        path=request.scope.get("raw_path", b"/").decode("latin-1") or "/",
        query=request.url.query,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
    )
    vigil: Vigil = request.app.state.vigil
    try:
        # Verification, the database and the detectors all block: run them off the loop.
        answer = await run_in_threadpool(_handle, vigil, vigil.rekognition, x_amz_target, signed)
    except VigilError as refusal:
        return aws_error_response(refusal)
    except SQLAlchemyError as exc:  # a busy or unreachable database: ThrottlingException
        log.warning("Rekognition-compatible request: database error: %s", exc)
        return aws_error_response(database_refusal(exc))
    except Exception:
        log.exception("Rekognition-compatible request failed")
        return aws_error_response(VigilError("vigil hit an unexpected error; see its log"))
    return aws_response(answer)


def _handle(
    vigil: Vigil, rekognition: RekognitionService, target: str, signed: SignedRequest
) -> dict[str, Any]:
    who = _authenticate(vigil, signed)
    operation = target.removeprefix(TARGET_PREFIX)
    return rekognition.call(operation, who, _json(signed.body))


def _authenticate(vigil: Vigil, signed: SignedRequest) -> Principal:
    found = identity(vigil.db, access_key_of(signed))
    verify(signed, lambda _key: found.secret, SERVICE)
    return found.principal


def known_caller(vigil: Vigil, headers: Mapping[str, str]) -> Principal:
    """The principal of the access key id a request claims, from its headers alone, so an
    unknown key is refused before the body is read; the signature, which covers the body, is
    verified later by the route. ``headers`` names are lower case."""
    return identity(vigil.db, claimed_access_key(headers)).principal


def _json(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise InvalidParameter("the request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidParameter("the request body must be a JSON object")
    return parsed
