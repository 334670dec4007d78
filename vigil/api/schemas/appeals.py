"""Appeals: review items in the appeal queue, opened by the uploader of a rejected asset."""

from __future__ import annotations

from vigil.api.schemas.base import ApiModel
from vigil.api.schemas.review import ReviewItem


class AppealList(ApiModel):
    """The asset's appeals, oldest first, with their outcome."""

    appeals: list[ReviewItem]
