"""Who may call what: the declared authorization table that
tests/api/test_authorization_table.py checks against the application's route table.

Each route (``"METHOD /path/{template}"``, and each Rekognition operation of ``POST /`` as
``"POST / <Operation>"``) names one role set: the outcome expected for each principal.
A route the app serves but this table lacks fails the test, and so does an entry the app no
longer serves: a new route is declared here, once, when it is added.
"""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Final

# Who asks: no credentials, a made-up Bearer key, two uploader keys (A owns the assets),
# a reviewer key, an admin key, a console session of a reviewer and of an admin (the cookie
# only), and AWS access key pairs (SigV4) of an uploader and of a reviewer.
PRINCIPALS: Final = (
    "anonymous",
    "bad_key",
    "uploader_a",
    "uploader_b",
    "reviewer",
    "admin",
    "console_reviewer",
    "console_admin",
    "aws_uploader",
    "aws_reviewer",
)


class Outcome(StrEnum):
    ALLOW = "allow"  # got past authorization: anything but 401/403 (a 404/409/422 is fine)
    SEE = "see"  # allowed and the resource is visible: neither 401/403 nor 404
    DENY = "deny"  # 401/403 (console pages: a redirect to the sign-in; AWS: its denial types)
    HIDDEN = "hidden"  # another tenant's resource: 401/403 or 404, never an answer


RoleSet = MappingProxyType[str, Outcome]
A, S, D, H = Outcome.ALLOW, Outcome.SEE, Outcome.DENY, Outcome.HIDDEN


def role_set(**allowed: Outcome) -> RoleSet:
    """Every principal denied but those named."""
    unknown = allowed.keys() - set(PRINCIPALS)
    assert not unknown, f"unknown principals: {sorted(unknown)}"
    return MappingProxyType({who: allowed.get(who, D) for who in PRINCIPALS})


# The role sets. API keys are only ever accepted as "Authorization: Bearer"; the console's
# cookie only on /review; AWS pairs only on POST / (Rekognition).
PUBLIC: Final = MappingProxyType(dict.fromkeys(PRINCIPALS, A))
ANY_KEY: Final = role_set(uploader_a=A, uploader_b=A, reviewer=A, admin=A)
UPLOADER_UP: Final = role_set(uploader_a=A, uploader_b=A, admin=A)  # uploads: not reviewers
REVIEWER_UP: Final = role_set(reviewer=A, admin=A)
ADMIN_ONLY: Final = role_set(admin=A)
# An asset of uploader A: A and the people who see everything see it; B is told it is missing.
OWNER: Final = role_set(uploader_a=S, uploader_b=H, reviewer=S, admin=S)
# As OWNER, where an image asset answers 404 to everyone (a video route on a photo).
OWNER_ANY_STATUS: Final = role_set(uploader_a=A, uploader_b=H, reviewer=A, admin=A)
# A person's decision on an asset: reviewers and admins; uploaders, its owner included, not.
OWNER_REVIEWER_UP: Final = role_set(uploader_a=D, uploader_b=H, reviewer=A, admin=A)
# Only the asset's uploader speaks for it (an appeal).
OWNER_ONLY: Final = role_set(uploader_a=S, uploader_b=H)
# Video thumbnails are for reviewers: uploaders, the owner too, get 404.
REVIEWER_UP_HIDDEN: Final = role_set(uploader_a=H, uploader_b=H, reviewer=A, admin=A)
# A key's own signing secret: admins, and the key's holder (uploader A asks for A's key).
KEY_HOLDER: Final = role_set(uploader_a=S, admin=S)
CONSOLE: Final = role_set(console_reviewer=A, console_admin=A)
CONSOLE_ADMIN: Final = role_set(console_admin=A)
REKOGNITION: Final = role_set(aws_uploader=A)  # uploaders and admins moderate, not reviewers

TABLE: Final[dict[str, RoleSet]] = {
    # -- open ----------------------------------------------------------------------------------
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /metrics": PUBLIC,  # Prometheus, no authentication by design (docs/metrics.md)
    "POST /": PUBLIC,  # without X-Amz-Target: 404 for everyone
    "GET /docs": PUBLIC,  # Swagger UI (its files are a static mount, not routes)
    # -- assets --------------------------------------------------------------------------------
    "POST /v1/moderate": ANY_KEY,
    "POST /v1/assets": UPLOADER_UP,
    "GET /v1/assets": ANY_KEY,  # uploaders: their own only
    "GET /v1/assets/{asset_id}": OWNER,
    "GET /v1/assets/{asset_id}/content": OWNER,
    "POST /v1/assets/{asset_id}/moderation": OWNER_REVIEWER_UP,
    "GET /v1/assets/{asset_id}/audit": OWNER,
    "GET /v1/assets/{asset_id}/explain": OWNER,
    "GET /v1/assets/{asset_id}/video": OWNER_ANY_STATUS,
    "GET /v1/assets/{asset_id}/video/thumbnails/{index}": REVIEWER_UP_HIDDEN,
    "POST /v1/assets/{asset_id}/appeal": OWNER_ONLY,
    "GET /v1/assets/{asset_id}/appeals": OWNER,
    "POST /v1/assets/{asset_id}/restore": OWNER_REVIEWER_UP,
    "POST /v1/archive/run": ADMIN_ONLY,
    # -- policies ------------------------------------------------------------------------------
    "GET /v1/policies/suggest": REVIEWER_UP,
    "POST /v1/policies/{name}/simulate": REVIEWER_UP,
    "GET /v1/policies": ANY_KEY,
    "POST /v1/policies": ADMIN_ONLY,
    "GET /v1/policies/{name}": ANY_KEY,
    "GET /v1/policies/{name}/versions": ANY_KEY,
    "GET /v1/policies/{name}/versions/{version}": ANY_KEY,
    "POST /v1/policies/{name}/activate": ADMIN_ONLY,
    "POST /v1/policies/{name}/rollback": ADMIN_ONLY,
    "PUT /v1/policies/{name}/shadow": ADMIN_ONLY,
    "GET /v1/policies/{name}/shadow/report": REVIEWER_UP,
    # -- upload presets (uploaders use them; their notification URLs are redacted) -------------
    "GET /v1/upload-presets": ANY_KEY,
    "GET /v1/upload-presets/{name}": ANY_KEY,
    "PUT /v1/upload-presets/{name}": ADMIN_ONLY,
    "DELETE /v1/upload-presets/{name}": ADMIN_ONLY,
    # -- operations ----------------------------------------------------------------------------
    "GET /v1/jobs": ADMIN_ONLY,
    "GET /v1/jobs/stats": ADMIN_ONLY,
    "POST /v1/jobs/requeue-dead": ADMIN_ONLY,
    "GET /v1/jobs/{job_id}": ADMIN_ONLY,
    "POST /v1/jobs/{job_id}/requeue": ADMIN_ONLY,
    "POST /v1/alerts": ADMIN_ONLY,
    "GET /v1/alerts": ADMIN_ONLY,
    "DELETE /v1/alerts/{rule_id}": ADMIN_ONLY,
    "POST /v1/alerts/{rule_id}/test": ADMIN_ONLY,
    "POST /v1/webhooks": ADMIN_ONLY,
    "GET /v1/webhooks": ADMIN_ONLY,
    "GET /v1/webhooks/secret": ADMIN_ONLY,
    "GET /v1/webhooks/deliveries": ADMIN_ONLY,
    "GET /v1/webhooks/deliveries/{delivery_id}": ADMIN_ONLY,
    "POST /v1/webhooks/deliveries/{delivery_id}/redeliver": ADMIN_ONLY,
    "DELETE /v1/webhooks/{webhook_id}": ADMIN_ONLY,
    "GET /v1/stats": REVIEWER_UP,
    "GET /v1/audit": ADMIN_ONLY,
    "GET /v1/users/lockouts": ADMIN_ONLY,
    "DELETE /v1/users/{username}/lockout": ADMIN_ONLY,
    "GET /v1/users/sign-ins": ADMIN_ONLY,
    # -- hash lists ----------------------------------------------------------------------------
    "POST /v1/lists": ADMIN_ONLY,
    "GET /v1/lists": ADMIN_ONLY,
    "GET /v1/lists/{name}": ADMIN_ONLY,
    "DELETE /v1/lists/{name}": ADMIN_ONLY,
    "POST /v1/lists/{name}/items": ADMIN_ONLY,
    "DELETE /v1/lists/{name}/items/{pdq}": ADMIN_ONLY,
    "GET /v1/lists/{name}/export": ADMIN_ONLY,
    # -- review (API) --------------------------------------------------------------------------
    "GET /v1/review/queues": REVIEWER_UP,
    "GET /v1/review/queues/{queue}/items": REVIEWER_UP,
    "POST /v1/review/queues/{queue}/claim": REVIEWER_UP,
    "GET /v1/review/items/{item_id}": REVIEWER_UP,
    "POST /v1/review/items/{item_id}/decision": REVIEWER_UP,
    "POST /v1/review/items/{item_id}/release": REVIEWER_UP,
    "GET /v1/review/reasons": REVIEWER_UP,
    # -- keys ----------------------------------------------------------------------------------
    "GET /v1/keys": ADMIN_ONLY,
    "POST /v1/keys": ADMIN_ONLY,
    "GET /v1/keys/{key_id}": ADMIN_ONLY,
    "DELETE /v1/keys/{key_id}": ADMIN_ONLY,
    "POST /v1/keys/{key_id}/rotate": ADMIN_ONLY,
    "PUT /v1/keys/{key_id}/grants/{grant}": ADMIN_ONLY,
    "DELETE /v1/keys/{key_id}/grants/{grant}": ADMIN_ONLY,
    "GET /v1/keys/{key_id}/events": ADMIN_ONLY,
    "GET /v1/keys/{key_id}/signing-secret": KEY_HOLDER,
    # -- the review console (session cookie) ---------------------------------------------------
    "GET /review/login": PUBLIC,
    "POST /review/login": PUBLIC,  # sent with valid credentials: the sign-in itself
    "POST /review/logout": CONSOLE,
    "GET /review": CONSOLE,
    "POST /review/queues/{queue}/next": CONSOLE,
    "GET /review/items/{item_id}": CONSOLE,
    "GET /review/items/{item_id}/preview": CONSOLE,
    "POST /review/items/{item_id}/unblur": CONSOLE,
    "GET /review/items/{item_id}/media": CONSOLE,
    "GET /review/items/{item_id}/thumbnails/{index}": CONSOLE,
    "POST /review/items/{item_id}/decide": CONSOLE,
    "POST /review/items/{item_id}/release": CONSOLE,
    "GET /review/stats": CONSOLE,
    "GET /review/stats.csv": CONSOLE,
    "GET /review/audit": CONSOLE_ADMIN,
    "GET /review/users": CONSOLE_ADMIN,
    "POST /review/users": CONSOLE_ADMIN,
    "POST /review/users/{username}/disabled": CONSOLE_ADMIN,
    # -- Rekognition-compatible (POST / with X-Amz-Target, SigV4) ------------------------------
    "POST / DetectModerationLabels": REKOGNITION,
    "POST / StartContentModeration": REKOGNITION,
    "POST / GetContentModeration": REKOGNITION,
}

# routes x principals: the number of requests the test makes (kept in step by the test).
TABLE_SIZE: Final = 990  # 99 routes x 10 principals
