"""Review at scale (0018): queue reads and claims visit flagged assets only, the QA flag is a
column, an unblur reads once, the dashboard keeps settled days; the migration's backfill."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, insert, select, text, update

from tests.images import astronaut_jpeg
from tests.review_helpers import asset_row
from vigil.app import Vigil
from vigil.service.access.keys import authenticate, create_key
from vigil.service.access.principal import Principal, Role
from vigil.service.assets.uploads import UploadRequest
from vigil.service.core.machine_days import forget_day, last_settled_day
from vigil.service.core.windows import Window
from vigil.service.policies.presets import UploadOptions
from vigil.service.review.people import PersonRole, person
from vigil.service.review.stats import stats
from vigil.storage.db import Database
from vigil.storage.tables import AssetRow, AuditEventRow, MachineDayRow, ReviewItemRow

ALICE = person("alice", PersonRole.REVIEWER)
BOB = person("bob", PersonRole.REVIEWER)


def uploader(vigil: Vigil) -> Principal:
    return authenticate(vigil.db, f"Bearer {create_key(vigil.db, Role.UPLOADER)}")


def upload(vigil: Vigil, who: Principal, policy: str) -> str:
    request = UploadRequest("x.jpg", UploadOptions(policy=policy))
    return str(vigil.uploads.upload(astronaut_jpeg(), request, who)["id"])


def add_decided(db: Database, owner: str, count: int, first: int) -> None:
    """``count`` assets the machine approved long ago, inserted in one statement."""
    created = datetime.now(UTC) - timedelta(days=40)
    rows = [_decided(f"bulk{first + n:08d}", owner, created) for n in range(count)]
    with db.engine.begin() as connection:
        connection.execute(insert(AssetRow), rows)


def _decided(asset_id: str, owner: str, created: datetime) -> dict[str, Any]:
    decision = {"action": "allow", "rule": "default", "qa_sample": False}
    return {**asset_row(asset_id, owner, created, "allow"), "decision": decision}


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements issued on ``db`` inside the block."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def on_assets(seen: list[str]) -> list[str]:
    return [sql for sql in seen if "FROM assets" in sql or "UPDATE assets" in sql]


def reads_and_claims(vigil: Vigil, reviewer: str) -> list[str]:
    with statements(vigil.db) as seen:
        vigil.review.queues(ALICE)
        vigil.review.items(ALICE, "first_pass")
        vigil.review.claim_next(person(reviewer, PersonRole.REVIEWER), "first_pass")
    return seen


def test_queue_reads_and_claims_never_scan_the_assets(on_both: Vigil) -> None:
    vigil = on_both
    who = uploader(vigil)
    for _ in range(3):
        upload(vigil, who, "review-all")
    add_decided(vigil.db, who.key_id, 50, 0)
    vigil.review.sync()  # the uploads' items: nothing is due afterwards
    few = reads_and_claims(vigil, "carol")
    add_decided(vigil.db, who.key_id, 1000, 50)
    many = reads_and_claims(vigil, "dave")
    assert len(many) == len(few)  # bounded: as many statements whatever the assets
    # Assets are read only through the review-due flag's index or one by id.
    for sql in on_assets(many):
        assert "review_due = " in sql or "assets.id = " in sql, sql


def test_an_asset_entering_review_raises_its_flag_until_the_queues_follow(
    on_both: Vigil,
) -> None:
    vigil = on_both
    asset_id = upload(vigil, uploader(vigil), "review-all")
    with vigil.db.session() as session:
        assert session.get(AssetRow, asset_id).review_due  # type: ignore[union-attr]
    assert vigil.review.sync() == 1
    with vigil.db.session() as session:
        assert not session.get(AssetRow, asset_id).review_due  # type: ignore[union-attr]
    admin = Principal(key_id="admin", role=Role.ADMIN)
    vigil.assets.override(asset_id, admin, "approved", "by the API")  # not through the queue
    assert vigil.review.sync() == 0
    with vigil.db.session() as session:
        item = session.scalars(select(ReviewItemRow).where(ReviewItemRow.asset_id == asset_id))
        assert [row.outcome for row in item] == ["superseded"]


def test_the_qa_queue_reads_the_flag_column_not_the_json(on_both: Vigil) -> None:
    vigil = on_both
    asset_id = upload(vigil, uploader(vigil), "qa-allow")
    with vigil.db.session() as session:
        row = session.get(AssetRow, asset_id)
        assert row is not None and row.qa_sample and row.machine_action == "review"
        # The JSON says otherwise: only the column decides the queue.
        session.execute(
            update(AssetRow).where(AssetRow.id == asset_id).values(decision={"action": "review"})
        )
    assert vigil.review.sync() == 1
    sizes = {queue["queue"]: queue["size"] for queue in vigil.review.queues(ALICE)}
    assert sizes["qa"] == 1 and sizes["first_pass"] == 0


def test_an_unblur_reads_the_item_and_the_asset_once(on_both: Vigil) -> None:
    vigil = on_both
    asset_id = upload(vigil, uploader(vigil), "review-all")
    item = vigil.review.claim_next(ALICE, "first_pass")
    assert item is not None
    with statements(vigil.db) as seen:
        data = vigil.review.unblur(ALICE, item["id"])
    assert data == astronaut_jpeg()
    reads = [sql for sql in seen if sql.startswith("SELECT")]
    assert len([sql for sql in reads if "FROM review_items" in sql]) == 1
    assert len([sql for sql in reads if "FROM assets" in sql]) == 1
    with vigil.db.session() as session:
        actions = session.scalars(
            select(AuditEventRow.action).where(AuditEventRow.asset_id == asset_id)
        ).all()
    assert "unblurred" in actions


def test_the_dashboard_keeps_settled_days_and_a_late_decision_forgets_its_day(
    on_both: Vigil,
) -> None:
    vigil = on_both
    owner = uploader(vigil).key_id
    add_decided(vigil.db, owner, 3, 0)  # 40 days ago
    day = (datetime.now(UTC) - timedelta(days=40)).date()
    span = Window(day, datetime.now(UTC).date())
    assert stats(vigil.db, span)["uploads_processed"] == 3
    with vigil.db.session() as session:
        assert session.get(MachineDayRow, day) is not None  # counted once, kept
    assert day <= last_settled_day()
    late = upload(vigil, uploader(vigil), "allow-all")
    with vigil.db.session() as session:  # as if uploaded that day and decided only now
        moved = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)
        session.execute(update(AssetRow).where(AssetRow.id == late).values(created_at=moved))
        forget_day(session, moved)
    assert stats(vigil.db, span)["uploads_processed"] == 4


def test_migration_0018_backfills_the_columns_and_flags(database_url: str) -> None:
    url = database_url
    config = Config()
    config.set_main_option("script_location", str(resources.files("vigil.storage.migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "0017")
    _old_rows(url)
    command.upgrade(config, "0018")
    db = Database(url)
    try:
        with db.session() as session:
            found = {
                row.id: (row.qa_sample, row.machine_action, row.review_due)
                for row in session.scalars(select(AssetRow))
            }
    finally:
        db.dispose()
    assert found == {
        "allowed": (False, "allow", False),
        "waiting": (False, "review", True),
        "sampled": (True, "block", True),
        "itemised": (False, "review", False),
        "overridden": (False, "review", True),  # its open first-pass item is superseded
        "manual": (False, None, True),
    }
    command.downgrade(config, "0017")
    command.upgrade(config, "head")


def _old_rows(url: str) -> None:
    """Assets as 0017 stored them: the QA flag and action only in the decision JSON."""
    engine = create_engine(url)
    created = "2026-01-01 00:00:00.000000"
    assets = [
        ("allowed", "approved", '{"action": "allow", "qa_sample": false}'),
        ("waiting", "review", '{"action": "review", "qa_sample": false}'),
        ("sampled", "rejected", '{"action": "block", "qa_sample": true}'),
        ("itemised", "review", '{"action": "review"}'),
        ("overridden", "approved", '{"action": "review"}'),
        ("manual", "pending", "null"),
    ]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO api_keys (id, key_hash, name, role, created_at, grants) "
                "VALUES ('k', 'h', '', 'uploader', :at, '[]')"
            ),
            {"at": created},
        )
        for asset_id, status, decision in assets:
            connection.execute(
                text(
                    "INSERT INTO assets (id, owner_key_id, filename, format, mime, size_bytes, "
                    "width, height, sha256, status, moderation_mode, storage_area, labels, "
                    "detections, content_types, model_version, decision, tags, "
                    "moderation_steps, created_at, updated_at) VALUES (:id, 'k', '', 'jpeg', "
                    "'image/jpeg', 1, 1, 1, :id, :status, '', 'originals', '[]', '[]', '[]', "
                    "'', :decision, '[]', '[]', :at, :at)"
                ),
                {"id": asset_id, "status": status, "decision": decision, "at": created},
            )
        for asset_id, state in (("itemised", "open"), ("overridden", "open")):
            connection.execute(
                text(
                    "INSERT INTO review_items (id, asset_id, queue, round, state, "
                    "reviews_needed, opened_by, message, created_at) VALUES "
                    "(:id, :id, 'first_pass', 0, :state, 1, 'system', '', :at)"
                ),
                {"id": asset_id, "state": state, "at": created},
            )
    engine.dispose()
