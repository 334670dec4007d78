"""Who is signed in to the console, and the CSRF check every form post passes."""

from __future__ import annotations

import math
import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from vigil.api.deps import VigilDep
from vigil.errors import CsrfTokenInvalid, TooManySignIns
from vigil.service.review.people import PersonRole
from vigil.service.review.users import SignedIn, UserService

SESSION_COOKIE = "vigil_session"
LOGIN_CSRF_COOKIE = "vigil_login_csrf"


class SignInRequired(Exception):
    """Raised by pages that need a person; answered with a redirect to the sign-in page."""


def users(vigil: VigilDep) -> UserService:
    return vigil.users


UsersDep = Annotated[UserService, Depends(users)]


def signed_in(request: Request, service: UsersDep) -> SignedIn:
    found = service.session(request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise SignInRequired
    return found


PersonDep = Annotated[SignedIn, Depends(signed_in)]


def admin(person: PersonDep) -> SignedIn:
    person.reviewer.require(PersonRole.ADMIN)
    return person


AdminDep = Annotated[SignedIn, Depends(admin)]


def check_csrf(person: SignedIn, token: str | None) -> None:
    """Every state-changing post carries the session's token (a form field or header)."""
    if not token or not secrets.compare_digest(token, person.csrf_token):
        raise CsrfTokenInvalid("the form's CSRF token is missing or stale; reload the page")


def set_session_cookie(response: Response, token: str, secure: bool, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/review",
    )


def client_address(request: Request, vigil: VigilDep) -> str:
    """The client's address: X-Forwarded-For only from VIGIL_TRUSTED_PROXIES."""
    peer = request.client.host if request.client else "unknown"
    return vigil.proxies.client(peer, request.headers.get("x-forwarded-for"))


def retry_after(refusal: TooManySignIns) -> str:
    """Retry-After in whole seconds, never 0 (which would invite an immediate retry)."""
    return str(max(1, math.ceil(refusal.retry_after)))
