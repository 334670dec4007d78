"""vigil's refusals under the names and statuses AWS gives them, in AWS's JSON error shape
(``{"__type", "message"}``), which boto3 turns into its modeled exceptions."""

from __future__ import annotations

import uuid

from fastapi.responses import JSONResponse

from vigil.errors import VigilError

AWS_JSON = "application/x-amz-json-1.1"


class AwsJsonResponse(JSONResponse):
    media_type = AWS_JSON


# vigil code -> (AWS error type, HTTP status). Rekognition answers client errors with 400;
# ThrottlingException and InternalServerError are 500s, which boto3 retries.
AWS_ERRORS: dict[str, tuple[str, int]] = {
    "InvalidImageFormat": ("InvalidImageFormatException", 400),
    "CorruptImage": ("InvalidImageFormatException", 400),
    "PolyglotFile": ("InvalidImageFormatException", 400),
    "EmptyFile": ("InvalidImageFormatException", 400),
    "ImageTooSmall": ("InvalidImageFormatException", 400),
    "ImageTooLarge": ("ImageTooLargeException", 400),
    "VideoTooLarge": ("VideoTooLargeException", 400),
    "InvalidParameter": ("InvalidParameterException", 400),
    "InvalidPolicy": ("InvalidParameterException", 400),
    "PolicyNotFound": ("InvalidParameterException", 400),
    "InvalidS3Object": ("InvalidS3ObjectException", 400),
    "InvalidPaginationToken": ("InvalidPaginationTokenException", 400),
    "IdempotencyKeyReused": ("IdempotentParameterMismatchException", 400),
    "AdapterNotFound": ("ResourceNotFoundException", 400),
    "JobNotFound": ("ResourceNotFoundException", 400),
    "AssetNotFound": ("ResourceNotFoundException", 400),
    "NotAVideo": ("ResourceNotFoundException", 400),
    "Forbidden": ("AccessDeniedException", 400),
    "Unauthorized": ("AccessDeniedException", 400),
    "KeyExpired": ("AccessDeniedException", 400),  # the pair's API key expired
    "InvalidSignature": ("InvalidSignatureException", 400),
    "MissingAuthenticationToken": ("MissingAuthenticationTokenException", 400),
    "UnrecognizedClient": ("UnrecognizedClientException", 400),
    "UnknownOperation": ("UnknownOperationException", 400),
    "NotReady": ("ThrottlingException", 500),
    "DatabaseUnavailable": ("ThrottlingException", 500),
    "ServiceBusy": ("ThrottlingException", 500),
}


def aws_name(error: VigilError) -> tuple[str, int]:
    """The AWS error type and status for a refusal; unmapped ones by their class of status."""
    if error.code in AWS_ERRORS:
        return AWS_ERRORS[error.code]
    if error.status < 500:
        return "InvalidParameterException", 400
    return "InternalServerError", 500


def aws_error_response(error: VigilError) -> JSONResponse:
    kind, status = aws_name(error)
    return aws_response({"__type": kind, "message": error.message}, status, kind)


def aws_response(body: object, status: int = 200, error_type: str | None = None) -> JSONResponse:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_type is not None:
        headers["x-amzn-ErrorType"] = error_type
    return AwsJsonResponse(body, status_code=status, headers=headers)
