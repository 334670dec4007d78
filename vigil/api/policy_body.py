"""A policy sent in a request body, as YAML text: shared by every route that takes one."""

from __future__ import annotations

import yaml
from fastapi import Request

from vigil.errors import InvalidPolicy


async def policy_text(request: Request) -> str:
    """The policy as YAML text: YAML bodies are kept as sent (comments and all), JSON objects
    are converted so every version is stored in one form."""
    body = (await request.body()).decode("utf-8", errors="replace")
    if "json" in request.headers.get("content-type", ""):
        try:
            document = yaml.safe_load(body)  # JSON is YAML; errors come with line and column
        except yaml.YAMLError as exc:
            raise InvalidPolicy(f"the body is not valid JSON: {exc}") from exc
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    return body
