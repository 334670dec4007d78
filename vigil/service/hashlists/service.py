"""Hash lists as the CLI and the HTTP API use them: create, add, import, export, show, remove,
delete, rematch. Admin only; each change commits in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.errors import HashListExists, HashListProtected, InvalidParameter, LowQualityHash
from vigil.media.image import DecodedImage
from vigil.service.access.principal import Principal, Role, require_role
from vigil.service.hashlists import formats, repository
from vigil.service.hashlists.index import HashIndex, pack
from vigil.service.hashlists.matcher import HashMatcher, builtin_rule
from vigil.service.hashlists.model import ListAction, ListSpec, MatchRules, list_view
from vigil.service.hashlists.pdq import listed_hashes, parse_hex
from vigil.service.hashlists.repository import NewItem
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, HashListRow

REMATCH_PAGE = 2000


@dataclass(frozen=True)
class Upload:
    """An image someone wants listed: its name (for the note) and bytes."""

    name: str
    data: bytes


class HashListService:
    def __init__(
        self,
        db: Database,
        rules: MatchRules,
        matcher: HashMatcher,
        decode: Callable[[bytes], DecodedImage],
    ) -> None:
        self.db = db
        self.rules = rules
        self.matcher = matcher
        self.decode = decode

    # -- lists ---------------------------------------------------------------------------------

    def create(
        self,
        who: Principal,
        name: str,
        action: str,
        label: str | None = None,
        distance: int | None = None,
        description: str = "",
    ) -> dict[str, Any]:
        require_role(who, Role.ADMIN)
        spec = ListSpec.checked(
            name, action, label, distance, description, self.rules.allow_distance
        )
        now = datetime.now(UTC)
        with self.db.session() as session:
            if repository.find_list(session, spec.name) is not None:
                raise HashListExists(f"a hash list called '{spec.name}' already exists")
            row = HashListRow(
                name=spec.name,
                action=spec.action.value,
                label=spec.label,
                distance=spec.distance,
                description=spec.description,
                builtin=False,
                created_by=who.key_id,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            repository.bump(session)
            return self._view(row, 0)

    def lists(self, who: Principal) -> list[dict[str, Any]]:
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            counted = repository.counts(session)
            return [
                self._view(row, counted.get(row.id, 0)) for row in repository.all_lists(session)
            ]

    def show(self, who: Principal, name: str, limit: int = 100, after: int = 0) -> dict[str, Any]:
        """The list and a page of its items (``after``: the last item id already seen)."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = repository.get_list(session, name)
            items = repository.items_of(session, row, after, limit)
            view = self._view(row, repository.counts(session).get(row.id, 0))
            view["item_page"] = [repository.item_view(item) for item in items]
            view["next_after"] = items[-1].id if len(items) == limit else None
            return view

    def delete(self, who: Principal, name: str) -> dict[str, Any]:
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = repository.get_list(session, name)
            if row.builtin:
                raise HashListProtected(
                    f"'{name}' is a built-in list: remove its hashes instead, or turn its "
                    "feedback setting off"
                )
            removed = repository.delete_list(session, row)
        return {"deleted": name, "items_removed": removed}

    # -- items ---------------------------------------------------------------------------------

    def add_hashes(
        self, who: Principal, name: str, hashes: Sequence[str], note: str = ""
    ) -> dict[str, Any]:
        """Add hex PDQ hashes (each checked; none added if one is bad)."""
        require_role(who, Role.ADMIN)
        items = [NewItem(parse_hex(value).hex(), note=note) for value in hashes]
        return self._add(who, name, items)

    def add_images(
        self, who: Principal, name: str, uploads: Sequence[Upload], note: str = ""
    ) -> dict[str, Any]:
        """Hash each image and add it; an image too flat to hash well is refused."""
        require_role(who, Role.ADMIN)
        items = [item for upload in uploads for item in self._image_items(upload, note)]
        return self._add(who, name, items)

    def import_text(
        self, who: Principal, name: str, text: str, form: str = "auto", note: str = ""
    ) -> dict[str, Any]:
        """Import a list file (plain or CSV, ``formats``) in one transaction."""
        require_role(who, Role.ADMIN)
        parsed = formats.read(text, formats.parse_format(form), note)
        result = self._add(who, name, parsed.items)
        return {**result, "other_hash_types_skipped": parsed.skipped}

    def export(self, who: Principal, name: str, form: str = "plain") -> Iterator[str]:
        """The list's hashes as file lines (plain or CSV)."""
        require_role(who, Role.ADMIN)
        chosen = formats.parse_format(form)
        if chosen is formats.FileFormat.AUTO:
            chosen = formats.FileFormat.PLAIN
        with self.db.session() as session:
            repository.get_list(session, name)  # refused now, not at the first line
        return self._lines(name, chosen)

    def remove(self, who: Principal, name: str, pdq: str) -> dict[str, Any]:
        require_role(who, Role.ADMIN)
        digest = parse_hex(pdq).hex()
        with self.db.session() as session:
            repository.remove_item(session, repository.get_list(session, name), digest)
        return {"list": name, "removed": digest}

    # -- stored assets -------------------------------------------------------------------------

    def rematch(self, who: Principal, name: str, since: datetime | None = None) -> dict[str, Any]:
        """Stored image assets (uploaded since ``since``) whose PDQ hash is within the list's
        distance of one of its hashes. Reports them; nothing changes status."""
        require_role(who, Role.ADMIN)
        with self.db.session() as session:
            row = repository.get_list(session, name)
            action, limit = self._rule(row)
            items = list(repository.every_item(session, row))
            index = HashIndex(pack([bytes.fromhex(item.pdq) for item in items]))
            matched = [
                {**found, "item_id": items[found.pop("position")].id}
                for found in _rematched(session, index, limit, since, self.rules.quality_floor)
            ]
        return {"list": name, "action": action.value, "distance": limit, "matches": matched}

    # -- helpers -------------------------------------------------------------------------------

    def _lines(self, name: str, form: formats.FileFormat) -> Iterator[str]:
        with self.db.session() as session:
            row = repository.get_list(session, name)
            items = (repository.item_view(item) for item in repository.every_item(session, row))
            yield from formats.write(items, form)

    def _add(self, who: Principal, name: str, items: Sequence[NewItem]) -> dict[str, Any]:
        if not items:
            raise InvalidParameter("nothing to add: give at least one hash or image")
        with self.db.session() as session:
            row = repository.get_list(session, name)
            added = repository.add_items(session, row, items, who.key_id)
        return {"list": name, **added.to_dict()}

    def _image_items(self, upload: Upload, note: str) -> list[NewItem]:
        """The image's hash, and its margin-less picture's when it has margins."""
        image = self.decode(upload.data)
        found, *inner = listed_hashes(image.pixels)
        if found.quality < self.rules.quality_floor:
            raise LowQualityHash(
                f"{upload.name}: PDQ quality {found.quality} is below the floor of "
                f"{self.rules.quality_floor} (VIGIL_HASHLIST_QUALITY_FLOOR): the image is too "
                "flat or blank for its hash to identify it"
            )
        noted = note or upload.name
        cut = [NewItem(each.hex, each.quality, f"{noted}; margins cut") for each in inner]
        return [NewItem(found.hex, found.quality, noted), *cut]

    def _rule(self, row: HashListRow) -> tuple[ListAction, int]:
        action, distance = ListAction(row.action), row.distance
        if row.builtin:
            return builtin_rule(row.name, self.rules, action, distance)
        return action, distance

    def _view(self, row: HashListRow, items: int) -> dict[str, Any]:
        view = list_view(row, items)
        action, distance = self._rule(row)
        view["action"], view["distance"] = action.value, distance
        return view


def _rematched(
    session: Session, index: HashIndex, limit: int, since: datetime | None, floor: int
) -> Iterator[dict[str, Any]]:
    """Each stored asset near one of ``index``'s hashes, with the nearest one's position."""
    if len(index) == 0:
        return
    after = ""
    while True:
        query = select(AssetRow.id, AssetRow.status, AssetRow.pdq).where(
            AssetRow.pdq.is_not(None), AssetRow.id > after, AssetRow.pdq_quality >= floor
        )
        if since is not None:
            query = query.where(AssetRow.created_at >= since)
        page = list(session.execute(query.order_by(AssetRow.id).limit(REMATCH_PAGE)))
        if not page:
            return
        for asset_id, status, pdq in page:
            hits = index.search(pack([bytes.fromhex(str(pdq))]), limit)
            if hits:
                yield {
                    "asset_id": asset_id,
                    "status": status,
                    "distance": hits[0].distance,
                    "position": hits[0].position,
                }
        after = page[-1][0]
