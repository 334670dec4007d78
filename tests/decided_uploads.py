"""Real uploads with people's decisions, shared by the simulation tests."""

from __future__ import annotations

from tests.conftest import Keys, grant_skip_moderation
from tests.images import astronaut_jpeg, chelsea_png, coffee_jpeg
from vigil.app import Vigil
from vigil.service.access.keys import authenticate
from vigil.service.assets.uploads import UploadRequest
from vigil.service.core.status import Mode
from vigil.service.policies.presets import UploadOptions


def upload_and_decide(vigil: Vigil, keys: Keys) -> int:
    """Five uploads under the block-all policy: four moderated (one of them manual) and one
    not. People decided three: two approved, one approved then rejected (the latest counts).
    Returns how many a simulation replays."""
    grant_skip_moderation(vigil, keys.uploader)  # one upload is never moderated
    uploader = authenticate(vigil.db, f"Bearer {keys.uploader}")
    reviewer = authenticate(vigil.db, f"Bearer {keys.reviewer}")

    def upload(data: bytes, mode: Mode = Mode.AUTO) -> str:
        options = UploadOptions(moderation=mode.value, policy="block-all")
        asset = vigil.uploads.upload(data, UploadRequest("x", options), uploader)
        return str(asset["id"])

    astronaut, chelsea, coffee = (
        upload(astronaut_jpeg()),
        upload(chelsea_png()),
        upload(coffee_jpeg()),
    )
    upload(coffee_jpeg(), Mode.MANUAL)  # pending, still replayed
    upload(coffee_jpeg(), Mode.NONE)  # never moderated: nothing to replay
    vigil.assets.override(astronaut, reviewer, "approved", "fine")
    vigil.assets.override(chelsea, reviewer, "approved", "a cat")
    vigil.assets.override(coffee, reviewer, "approved", "coffee")
    vigil.assets.override(coffee, reviewer, "rejected", "second look")
    return 4
