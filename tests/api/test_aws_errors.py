"""The table that names vigil's refusals the AWS way."""

from __future__ import annotations

import base64
import inspect
from pathlib import Path

import pytest

from tests.botocore_shapes import operation
from tests.images import astronaut_jpeg
from vigil import errors
from vigil.app import build, prepare_storage
from vigil.aws.errors import AWS_ERRORS, aws_name
from vigil.aws.rekognition import RekognitionService
from vigil.service.access.principal import Principal, Role
from vigil.settings import Settings

OPERATIONS = ("DetectModerationLabels", "StartContentModeration", "GetContentModeration")
# Errors any AWS JSON service may answer, which no operation's model lists.
COMMON = {
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "UnknownOperationException",
}


def test_every_aws_name_is_a_modeled_or_common_error() -> None:
    modeled = {
        shape.name for name in OPERATIONS for shape in operation("rekognition", name).error_shapes
    }
    assert {kind for kind, _status in AWS_ERRORS.values()} - modeled - COMMON == set()
    codes = {
        cls.code
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.VigilError)
    }
    assert set(AWS_ERRORS) <= codes


def test_unmapped_refusals_fall_back_by_status() -> None:
    assert aws_name(errors.UserExists("x")) == ("InvalidParameterException", 400)
    assert aws_name(errors.EmailDeliveryFailed("x")) == ("InternalServerError", 500)


def test_models_still_loading_answer_throttling(tmp_path: Path, policy_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", policy_dir=policy_dir)
    prepare_storage(settings)
    unloaded = build(settings)  # detectors made, not loaded
    try:
        service = RekognitionService(unloaded)
        body = {"Image": {"Bytes": base64.b64encode(astronaut_jpeg()).decode()}}
        with pytest.raises(errors.NotReady) as caught:
            service.call("DetectModerationLabels", Principal("k", Role.UPLOADER), body)
    finally:
        unloaded.close()
    assert aws_name(caught.value) == ("ThrottlingException", 500)
