"""Console sign-in lockouts and events over the API, for admin keys: list the lockouts in
force, lift one, and read the sign-in audit.

Lockouts are counted from the sign_in_events table (docs/review.md#sign-in-limits), so these
routes see and lift them for every process, whichever one answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.users import LockoutList, SignInEventList, Unlocked
from vigil.service.review.users import MAX_EVENTS

router = APIRouter(prefix="/v1/users")


@router.get("/lockouts", summary="Console sign-in lockouts in force (admin)")
def lockouts(vigil: VigilDep, who: PrincipalDep) -> LockoutList:
    return LockoutList.model_validate({"lockouts": vigil.users.lockouts(who)})


@router.get("/sign-ins", summary="Recent console sign-in attempts and unlocks (admin)")
def sign_ins(
    vigil: VigilDep,
    who: PrincipalDep,
    username: str | None = None,
    address: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 100,
) -> SignInEventList:
    events = vigil.users.sign_in_events(who, username, address, limit)
    return SignInEventList.model_validate({"events": events})


@router.delete("/{username}/lockout", summary="Lift a person's sign-in lockout (admin)")
def unlock(
    vigil: VigilDep, who: PrincipalDep, username: str, address: str | None = None
) -> Unlocked:
    return Unlocked.model_validate(vigil.users.unlock(who, username, address))
