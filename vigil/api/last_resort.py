"""The last resort: an exception no handler knew becomes a 500 ``InternalError`` body.

Starlette's own fallback answers and then re-raises, and uvicorn closes the connection of a
request whose app raised, taking every other keep-alive request on it down too. This
middleware sits inside that fallback and does not re-raise once a whole answer went out.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigil.api.errors import error_response

log = logging.getLogger(__name__)


class LastResort:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        progress = {"started": False, "complete": False}

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                progress["complete"] = True
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception as exc:
            log.exception("unhandled error", exc_info=exc)
            if progress["started"] and not progress["complete"]:
                raise  # half an answer: only closing the connection ends it honestly
            if not progress["started"]:
                answer = error_response(
                    500, "InternalError", "vigil hit an unexpected error; see its log"
                )
                await answer(scope, receive, send)
