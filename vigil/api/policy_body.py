"""A policy sent in a request body, as YAML text: shared by every route that takes one."""

from __future__ import annotations

from fastapi import Request

from vigil.policy.loader import yaml_from_json


async def policy_text(request: Request) -> str:
    """The policy as YAML text: YAML bodies are kept as sent (comments and all), JSON objects
    are converted so every version is stored in one form."""
    body = (await request.body()).decode("utf-8", errors="replace")
    if "json" in request.headers.get("content-type", ""):
        return yaml_from_json(body)
    return body
