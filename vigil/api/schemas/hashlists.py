"""Hash lists (docs/hashlists.md): lists, their items, adding and removing hashes."""

from __future__ import annotations

import builtins

from pydantic import MISSING, Field

from vigil.api.schemas.base import ApiModel
from vigil.service.core import times
from vigil.service.core.times import Timestamp


class HashList(ApiModel):
    name: str
    action: str = Field(description="block, review or allow")
    label: str
    distance: int = Field(description="The largest PDQ distance that matches")
    description: str
    builtin: bool
    items: int = Field(description="How many hashes the list holds")
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp


class HashListMatch(ApiModel):
    """The listed hash a ``hashlist`` detection matched (docs/hashlists.md)."""

    List: str
    Action: str
    ItemId: int
    Distance: int = Field(description="PDQ distance from the listed hash")
    MaxDistance: int
    Variant: str = Field(description="original, or the picture without its margins")
    AddedBy: str
    AddedAt: times.Timestamp  # qualified: the field "Timestamp" below shadows the type here
    Note: str
    SourceAsset: str | None
    Timestamp: int | MISSING = Field(MISSING, description="A video's frame, in milliseconds")


class HashListList(ApiModel):
    lists: list[HashList]


class HashListItem(ApiModel):
    id: int
    pdq: str = Field(description="64 hex characters")
    quality: int | None
    note: str
    labels: list[str]
    source_asset_id: str | None
    added_by: str
    added_at: Timestamp


class HashListPage(HashList):
    """A list and one page of its items."""

    item_page: list[HashListItem]
    next_after: int | None = Field(description="Pass back as after for the next page")


class HashListDeleted(ApiModel):
    deleted: str
    items_removed: int


class ItemsAdded(ApiModel):
    list: str  # the list's name; builtins.list below, since this field shadows it
    added: int = Field(description="Hashes new to the list")
    already_listed: int
    item_ids: builtins.list[int]


class ItemRemoved(ApiModel):
    list: str
    removed: str = Field(description="The removed hash")
