"""What every response model shares."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """A JSON object the API answers with.

    The services build most answers as dicts (the CLI and event payloads print the same
    dicts), and a response model drops any key it does not declare. Extra keys are therefore
    kept, not dropped: a key a service adds before its model names it still reaches clients,
    so the public contract only grows. Keys a service leaves out in some answers are typed
    ``X | MISSING`` with ``MISSING`` as default, so they stay out instead of turning into
    ``null``.
    """

    model_config = ConfigDict(extra="allow")
