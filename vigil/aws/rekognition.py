"""The Rekognition-compatible API: each operation takes the request's JSON body and the
caller, and answers Rekognition's output shape. Refusals are VigilErrors; the HTTP layer
names them the way AWS does (vigil/aws/errors.py)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from vigil.app import Vigil
from vigil.aws.rekognition_input import min_confidence, s3_location
from vigil.aws.rekognition_video import RekognitionVideo
from vigil.aws.s3_input import S3InputRules, read_input
from vigil.aws.s3_objects import s3_client
from vigil.errors import (
    ImageTooLarge,
    InvalidParameter,
    UnknownOperation,
)
from vigil.labels import above
from vigil.service.access.principal import Principal, Role, require_role

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Rekognition's limit for Image.Bytes and S3 images
LABEL_FIELDS = ("Confidence", "Name", "ParentName", "TaxonomyLevel")
Operation = Callable[[Principal, dict[str, Any]], dict[str, Any]]


class RekognitionService:
    def __init__(self, vigil: Vigil) -> None:
        self.vigil = vigil
        self.s3 = s3_client(vigil.settings)
        self.inputs = S3InputRules.from_settings(vigil.settings)
        self.video = RekognitionVideo(vigil, self.s3, self.inputs)
        self.operations: dict[str, Operation] = {
            "DetectModerationLabels": self.detect_moderation_labels,
            "StartContentModeration": self.video.start,
            "GetContentModeration": self.video.get,
        }

    def call(self, operation: str, who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        handler = self.operations.get(operation)
        if handler is None:
            known = ", ".join(sorted(self.operations))
            raise UnknownOperation(f"vigil does not offer {operation} (it offers {known})")
        # As for the native API: uploaders and admins moderate, reviewers only review.
        require_role(who, Role.ADMIN, Role.UPLOADER)
        return handler(who, body)

    def detect_moderation_labels(self, _who: Principal, body: dict[str, Any]) -> dict[str, Any]:
        """Labels for one image, not stored: Rekognition keeps nothing either."""
        floor = min_confidence(body)
        adapter = adapter_name(body.get("ProjectVersion"))
        image = self._image(body.get("Image"))
        result = self.vigil.engine.moderate(image, self.vigil.policy(), adapter=adapter)
        labels = [label.to_dict() for label in above(result.labels, floor)]
        return {
            "ModerationLabels": [{key: label[key] for key in LABEL_FIELDS} for label in labels],
            "ModerationModelVersion": result.model_version,
            "ContentTypes": [
                {"Name": item["Name"], "Confidence": item["Confidence"]}
                for item in result.content_types
                if "Name" in item and "Confidence" in item
            ],
        }

    def _image(self, image: Any) -> bytes:
        if not isinstance(image, dict) or len(image.keys() & {"Bytes", "S3Object"}) != 1:
            raise InvalidParameter("Image must have exactly one of Bytes or S3Object")
        if "S3Object" in image:
            where = s3_location(image["S3Object"], "Image.S3Object")
            return read_input(self.s3, self.inputs, where, MAX_IMAGE_BYTES)
        encoded = image["Bytes"]
        if not isinstance(encoded, str):
            raise InvalidParameter("Image.Bytes must be base64-encoded bytes")
        # 4 base64 characters carry 3 bytes: refuse before decoding an oversized image.
        if len(encoded) * 3 // 4 > MAX_IMAGE_BYTES + 2:
            raise ImageTooLarge(f"Image.Bytes is larger than {MAX_IMAGE_BYTES} bytes")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidParameter("Image.Bytes is not valid base64") from None
        if len(data) > MAX_IMAGE_BYTES:
            raise ImageTooLarge(f"Image.Bytes is larger than {MAX_IMAGE_BYTES} bytes")
        if not data:
            raise InvalidParameter("Image.Bytes is empty")
        return data


def adapter_name(project_version: Any) -> str | None:
    """The vigil adapter a ``ProjectVersion`` selects: the project's name in an adapter ARN
    (``arn:aws:rekognition:...:project/NAME/version/...``), or the value itself."""
    if project_version is None:
        return None
    if not isinstance(project_version, str):
        raise InvalidParameter("ProjectVersion must be a string")
    found = re.search(r"(?:^|:)project/([^/]+)/version/", project_version)
    return found.group(1) if found else project_version
