"""Checking a response against botocore's own service model: every key is a member of its
shape, every value has the shape's type, every enum value is allowed, required members are
there. What boto3 returns has been parsed already, so this checks what vigil sent."""

from __future__ import annotations

import datetime
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "float": (float, int),
    "double": (float, int),
    "boolean": (bool,),
    "blob": (bytes,),
    "timestamp": (datetime.datetime,),
}


def operation(service: str, name: str) -> OperationModel:
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(name)


def problems(shape: Shape, value: Any, path: str = "$") -> list[str]:
    """Every way ``value`` does not fit ``shape`` (empty when it fits)."""
    if isinstance(shape, StructureShape):
        return _structure(shape, value, path)
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        return [
            p for i, item in enumerate(value) for p in problems(shape.member, item, f"{path}[{i}]")
        ]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        return [p for k, item in value.items() for p in problems(shape.value, item, f"{path}.{k}")]
    return _scalar(shape, value, path)


def _structure(shape: StructureShape, value: Any, path: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{path}: expected an object, got {type(value).__name__}"]
    found = [
        f"{path}.{key}: not a member of {shape.name}" for key in value if key not in shape.members
    ]
    found += [f"{path}.{key}: required" for key in shape.required_members if key not in value]
    for key, item in value.items():
        if key in shape.members:
            found += problems(shape.members[key], item, f"{path}.{key}")
    return found


def _scalar(shape: Shape, value: Any, path: str) -> list[str]:
    allowed = SCALARS.get(shape.type_name)
    if allowed is None:
        return [f"{path}: unknown shape type {shape.type_name}"]
    if not isinstance(value, allowed) or (shape.type_name != "boolean" and isinstance(value, bool)):
        return [f"{path}: expected {shape.type_name}, got {type(value).__name__} {value!r}"]
    enum = shape.enum if shape.type_name == "string" else []
    if enum and value not in enum:
        return [f"{path}: {value!r} is not one of {enum}"]
    return []


def check_output(service: str, name: str, response: dict[str, Any]) -> None:
    """Assert that a boto3 response fits the operation's output shape."""
    body = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    shape = operation(service, name).output_shape
    assert shape is not None
    found = problems(shape, body)
    assert found == [], "\n".join(found)
