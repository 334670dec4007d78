"""Console sign-in lockouts over the API, for admin keys: list them and lift one.

Lockouts live in the memory of the process that counted them (docs/review.md#sign-in-limits),
so these routes see and lift the lockouts of the process that answers."""

from __future__ import annotations

from fastapi import APIRouter

from vigil.api.deps import PrincipalDep, VigilDep
from vigil.api.schemas.users import LockoutList, Unlocked

router = APIRouter(prefix="/v1/users")


@router.get("/lockouts", summary="Console sign-in lockouts in force (admin)")
def lockouts(vigil: VigilDep, who: PrincipalDep) -> LockoutList:
    return LockoutList.model_validate({"lockouts": vigil.users.lockouts(who)})


@router.delete("/{username}/lockout", summary="Lift a person's sign-in lockout (admin)")
def unlock(
    vigil: VigilDep, who: PrincipalDep, username: str, address: str | None = None
) -> Unlocked:
    return Unlocked.model_validate(vigil.users.unlock(who, username, address))
