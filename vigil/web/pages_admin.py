"""Console pages about the work rather than the items: the dashboard for everyone, the audit
log and people for admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.api.deps import VigilDep
from vigil.api.responses import CsvResponse
from vigil.service.assets.audit_log import audit_events
from vigil.service.core.windows import window
from vigil.service.review.people import PersonRole
from vigil.service.review.stats import daily, daily_csv, stats
from vigil.web.render import page
from vigil.web.session import AdminDep, PersonDep, UsersDep, check_csrf

# Pages for people, not JSON: HTML (or a redirect), and the CSV of the dashboard.
router = APIRouter(prefix="/review", include_in_schema=False, default_response_class=HTMLResponse)
CHART_SERIES = (
    ("auto_allowed", "#4a9d5b"),
    ("sent_to_review", "#d9a23a"),
    ("auto_blocked", "#c4473a"),
)


@router.get("/stats")
def dashboard(
    request: Request, vigil: VigilDep, person: PersonDep, since: str = "", until: str = ""
) -> Response:
    figures = stats(vigil.db, window(since or None, until or None))
    return page(
        request,
        "stats.html",
        person=person,
        figures=figures,
        chart=_chart(figures["daily"]),
        query=f"since={figures['since']}&until={figures['until']}",
    )


@router.get("/stats.csv", response_class=CsvResponse)
def dashboard_csv(
    vigil: VigilDep, _person: PersonDep, since: str = "", until: str = ""
) -> Response:
    rows = daily(vigil.db, window(since or None, until or None))  # not the other figures
    return Response(
        daily_csv({"daily": rows}),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="vigil-stats.csv"'},
    )


@router.get("/audit")
def audit(
    request: Request,
    vigil: VigilDep,
    person: AdminDep,
    asset_id: str = "",
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    span = window(since or None, until or None) if since or until else None
    events = audit_events(
        vigil.db, asset_id=asset_id, actor=actor, action=action, span=span, limit=500
    )
    filters = {
        "asset_id": asset_id,
        "actor": actor,
        "action": action,
        "since": since,
        "until": until,
    }
    return page(request, "audit.html", person=person, events=events, filters=filters)


@router.get("/users")
def people(request: Request, person: AdminDep, service: UsersDep, created: str = "") -> Response:
    return page(
        request,
        "users.html",
        person=person,
        users=service.list(),
        roles=[role.value for role in PersonRole],
        created=created,
    )


@router.post("/users")
def create_person(
    person: AdminDep,
    service: UsersDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(person, csrf_token)
    service.create(username.strip(), password, role)
    return RedirectResponse(f"/review/users?created={username.strip()}", status_code=303)


@router.post("/users/{username}/disabled")
def set_disabled(
    person: AdminDep,
    service: UsersDep,
    username: str,
    disabled: Annotated[bool, Form()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(person, csrf_token)
    service.set_disabled(username, disabled)
    return RedirectResponse("/review/users", status_code=303)


def _chart(daily: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacked bars per day (allowed, review, blocked), scaled to the busiest day."""
    tallest = max((day["processed"] for day in daily), default=0) or 1
    width = max(4, 720 // max(len(daily), 1))
    bars = []
    for n, day in enumerate(daily):
        top = 160.0
        for key, colour in CHART_SERIES:
            height = 150 * day[key] / tallest
            top -= height
            if height:
                bars.append(
                    {
                        "x": n * width,
                        "y": top,
                        "w": width - 1,
                        "h": height,
                        "colour": colour,
                        "title": f"{day['date']}: {day[key]} {key.replace('_', ' ')}",
                    }
                )
    return {"bars": bars, "width": width * len(daily), "series": CHART_SERIES, "tallest": tallest}
