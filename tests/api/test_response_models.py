"""Every JSON route declares a pydantic response model, and ``/openapi.json`` shows its
response schema: the route table is walked, so a route added later is covered too. Routes
that answer bytes or HTML are told apart by their response class, not by a list.

FastAPI includes routers lazily: ``iter_route_contexts`` walks ``app.routes`` into each
route as the app serves it, with its router's prefix and defaults (response class) applied."""

from __future__ import annotations

from types import UnionType
from typing import Any, Union, cast, get_args, get_origin

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel


def api_routes(app: FastAPI) -> list[RouteContext]:
    return [
        route
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
    ]


def response_class(route: RouteContext) -> type[Response]:
    chosen = route.response_class
    if isinstance(chosen, DefaultPlaceholder):
        chosen = chosen.value
    return cast(type[Response], chosen)


def json_routes(app: FastAPI) -> list[RouteContext]:
    return [route for route in api_routes(app) if issubclass(response_class(route), JSONResponse)]


def model_problem(model: object) -> str | None:
    """Why ``model`` is no pydantic response model (None when it is one, or a union of them):
    missing, ``Any``, a dict such as ``dict[str, Any]``, or another type."""
    if model is None:
        return "declares no response model"
    members = get_args(model) if get_origin(model) in (Union, UnionType) else (model,)
    for member in members:
        if not (isinstance(member, type) and issubclass(member, BaseModel)):
            return f"answers {member!r}, not a pydantic model"
    return None


def untyped(app: FastAPI) -> list[str]:
    return [
        f"{sorted(route.methods or ())} {route.path}: {problem}"
        for route in json_routes(app)
        if (problem := model_problem(route.response_model)) is not None
    ]


def test_every_json_route_declares_a_response_model(client: TestClient) -> None:
    app = cast(FastAPI, client.app)
    assert len(json_routes(app)) > 50  # the walk found the API, not an empty table
    assert untyped(app) == []


def test_openapi_shows_each_json_routes_response_schema(client: TestClient) -> None:
    app = cast(FastAPI, client.app)
    spec = client.get("/openapi.json").json()
    missing = []
    for route in json_routes(app):
        for method in route.methods or ():
            schema = _response_schema(spec, route, method)
            if not route.include_in_schema or not ("$ref" in schema or "anyOf" in schema):
                missing.append(f"{method} {route.path}: {schema}")
    assert missing == []


def test_byte_and_page_routes_are_not_json(client: TestClient) -> None:
    media = {
        route.path: response_class(route).media_type
        for route in api_routes(cast(FastAPI, client.app))
    }
    assert media["/v1/assets/{asset_id}/video/thumbnails/{index}"] == "image/jpeg"
    assert media["/metrics"] is not None and media["/metrics"].startswith("text/plain")
    assert media["/review/login"] == "text/html"
    assert media["/"] == "application/x-amz-json-1.1"  # JSON, in AWS's media type


class Answer(BaseModel):
    ok: bool


def test_the_check_refuses_untyped_routes() -> None:
    app = FastAPI()

    @app.get("/anything")
    def anything() -> Any:
        return {}

    @app.get("/mapping")
    def mapping() -> dict[str, Any]:
        return {}

    @app.get("/bare", response_model=dict)
    def bare() -> object:
        return {}

    @app.get("/unmodelled")
    def unmodelled() -> JSONResponse:
        return JSONResponse({})

    @app.get("/bytes", response_class=Response)
    def data() -> Response:
        return Response(b"")

    @app.get("/typed")
    def typed() -> Answer:
        return Answer(ok=True)

    assert [problem.split(":")[0] for problem in untyped(app)] == [
        "['GET'] /anything",
        "['GET'] /mapping",
        "['GET'] /bare",
        "['GET'] /unmodelled",
    ]


def _response_schema(spec: dict[str, Any], route: RouteContext, method: str) -> dict[str, Any]:
    operation = spec["paths"].get(route.path_format, {}).get(method.lower(), {})
    answer = operation.get("responses", {}).get(str(route.status_code or 200), {})
    media = response_class(route).media_type or "application/json"
    schema: dict[str, Any] = answer.get("content", {}).get(media, {}).get("schema", {})
    return schema
