"""Console pages for every signed-in person: sign-in, queues, the item, deciding."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.api.deps import PathInt, VigilDep
from vigil.api.responses import JpegResponse
from vigil.errors import InvalidCredentials, TooManySignIns, VigilError
from vigil.service.review.service import ReviewService
from vigil.web.preview import preview
from vigil.web.render import page
from vigil.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PersonDep,
    UsersDep,
    check_csrf,
    client_address,
    retry_after,
    set_session_cookie,
)

# Pages for people, not JSON: HTML (or a redirect), and the few images they show.
router = APIRouter(prefix="/review", include_in_schema=False, default_response_class=HTMLResponse)
NO_STORE = {"Cache-Control": "private, no-store"}


def _go(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- signing in and out -----------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request, "", 200)


def _login_page(
    request: Request, error: str, status: int, headers: dict[str, str] | None = None
) -> Response:
    # Before a session exists, the form's CSRF token is checked against a cookie it set.
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", status, login_csrf=token, error=error)
    response.headers.update(headers or {})
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/review")
    return response


@router.post("/login")
def login(
    request: Request,
    vigil: VigilDep,
    service: UsersDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_page(request, "The form expired; please sign in again.", 403)
    try:
        token, _ = service.sign_in(username.strip(), password, client_address(request, vigil))
    except InvalidCredentials as refusal:
        return _login_page(request, refusal.message, 401)
    except TooManySignIns as refusal:
        retry = {"Retry-After": retry_after(refusal)}
        return _login_page(request, refusal.message, refusal.status, retry)
    response = _go("/review")
    max_age = int(vigil.settings.review_session_hours * 3600)
    set_session_cookie(response, token, vigil.settings.review_cookie_secure, max_age)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/review")
    return response


@router.post("/logout")
def logout(
    request: Request,
    person: PersonDep,
    service: UsersDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(person, csrf_token)
    service.sign_out(request.cookies.get(SESSION_COOKIE))
    response = _go("/review/login")
    response.delete_cookie(SESSION_COOKIE, path="/review")
    return response


# -- queues -----------------------------------------------------------------------------------


@router.get("")
def queues(
    request: Request, vigil: VigilDep, person: PersonDep, done: str = "", empty: str = ""
) -> Response:
    review = vigil.review
    return page(
        request,
        "queues.html",
        person=person,
        queues=review.queues(person.reviewer),
        done=_done(review, person, done),
        empty=empty,
    )


@router.post("/queues/{queue}/next")
def next_item(
    vigil: VigilDep,
    person: PersonDep,
    queue: str,
    csrf_token: Annotated[str, Form()] = "",
    skip: Annotated[str, Form()] = "",
    done: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(person, csrf_token)
    item = vigil.review.claim_next(person.reviewer, queue, skip or None)
    suffix = f"?done={done}" if done else ""
    if item is None and skip:
        return _go(f"/review/items/{skip}?alone=1")  # nothing to skip to: stay
    if item is None:
        return _go(f"/review?empty={queue}" + (f"&done={done}" if done else ""))
    return _go(f"/review/items/{item['id']}{suffix}")


# -- one item ---------------------------------------------------------------------------------


@router.get("/items/{item_id}")
def item_page(
    request: Request,
    vigil: VigilDep,
    person: PersonDep,
    item_id: str,
    done: str = "",
    alone: bool = False,
) -> Response:
    review = vigil.review
    evidence = review.evidence(person.reviewer, item_id)
    item = evidence.item
    return page(
        request,
        "item.html",
        person=person,
        item=item,
        asset=item["asset"],
        mine=item["state"] == "claimed" and item["claimed_by"] == person.reviewer.actor,
        boxes=evidence.boxes,
        labels=evidence.labels,
        is_video=evidence.is_video,
        segments=evidence.segments,
        reasons=review.rules.reject_reasons,
        done=_done(review, person, done),
        alone=alone,
    )


@router.get("/items/{item_id}/preview", response_class=JpegResponse)
def blurred(vigil: VigilDep, person: PersonDep, item_id: str, gray: bool = False) -> Response:
    """The blurred preview (the only image a page shows until a reviewer unblurs)."""
    data = _media(vigil, person, item_id)
    settings = vigil.settings
    jpeg = preview(
        data, side=settings.review_preview_side, blur=settings.review_blur_radius, gray=gray
    )
    return Response(jpeg, media_type="image/jpeg", headers=NO_STORE)


@router.post("/items/{item_id}/unblur", response_class=JpegResponse)
def unblurred(
    vigil: VigilDep,
    person: PersonDep,
    item_id: str,
    gray: bool = False,
    x_csrf_token: Annotated[str | None, Header()] = None,
) -> Response:
    """The unblurred preview, on request only (a post with the CSRF token), logged."""
    check_csrf(person, x_csrf_token)
    data = vigil.review.unblur(person.reviewer, item_id)
    jpeg = preview(data, side=vigil.settings.review_preview_side, blur=0, gray=gray)
    return Response(jpeg, media_type="image/jpeg", headers=NO_STORE)


@router.get("/items/{item_id}/media", response_class=Response)  # the video's own type
def media(vigil: VigilDep, person: PersonDep, item_id: str) -> Response:
    """A video's bytes for the player (videos are blurred in the browser; see docs). Images
    are only ever sent blurred, or unblurred through the logged ``unblur``."""
    data, mime = vigil.review.video_media(person.reviewer, item_id)
    return Response(data, media_type=mime, headers=NO_STORE)


@router.get("/items/{item_id}/thumbnails/{index}", response_class=JpegResponse)
def thumbnail(vigil: VigilDep, person: PersonDep, item_id: str, index: PathInt) -> Response:
    item = vigil.review.get(person.reviewer, item_id)
    data = vigil.videos.thumbnail(item["asset_id"], index, person.reviewer.principal)
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.post("/items/{item_id}/decide")
def decide(
    vigil: VigilDep,
    person: PersonDep,
    item_id: str,
    decision: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(person, csrf_token)
    review = vigil.review
    decided = review.decide(person.reviewer, item_id, decision, reason, note)
    following = review.claim_next(person.reviewer, decided["queue"])
    if following is None:
        return _go(f"/review?done={item_id}&empty={decided['queue']}")
    return _go(f"/review/items/{following['id']}?done={item_id}")


@router.post("/items/{item_id}/release")
def release(
    vigil: VigilDep, person: PersonDep, item_id: str, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(person, csrf_token)
    vigil.review.release(person.reviewer, item_id)
    return _go("/review")


# -- helpers ----------------------------------------------------------------------------------


def _media(vigil: VigilDep, person: PersonDep, item_id: str) -> bytes:
    item = vigil.review.get(person.reviewer, item_id)
    data, _mime = vigil.assets.content(item["asset_id"], person.reviewer.principal)
    return data


def _done(review: ReviewService, person: PersonDep, item_id: str) -> dict[str, Any] | None:
    """The item just decided, to confirm what happened to its asset."""
    if not item_id:
        return None
    try:
        return review.get(person.reviewer, item_id)
    except VigilError:
        return None
