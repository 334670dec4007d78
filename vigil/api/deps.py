"""Request-scoped helpers: the running Vigil, the caller, the uploaded bytes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Query, Request, UploadFile

from vigil.app import Vigil
from vigil.errors import EmptyFile, ImageTooLarge
from vigil.service.access.keys import authenticate
from vigil.service.access.principal import Principal


def get_vigil(request: Request) -> Vigil:
    vigil: Vigil = request.app.state.vigil
    return vigil


VigilDep = Annotated[Vigil, Depends(get_vigil)]
# Ids, versions and indexes are 64-bit integers in the database: a larger number would
# overflow the driver (a 500) instead of matching nothing, so it is refused as a parameter.
INT64_MAX = 2**63 - 1
PathInt = Annotated[int, Path(ge=0, le=INT64_MAX)]
QueryInt = Annotated[int | None, Query(ge=0, le=INT64_MAX)]
PRINCIPAL_STATE = "principal"  # request.state's name for a principal checked before the body


def get_principal(
    request: Request, vigil: VigilDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    # The body-limit middleware checked the key of requests with a body before reading it.
    checked = getattr(request.state, PRINCIPAL_STATE, None)
    if isinstance(checked, Principal):
        return checked
    return authenticate(vigil.db, authorization)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """The upload's bytes, refusing more than ``max_bytes`` without reading past the limit."""
    data = file.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImageTooLarge(f"the upload is larger than the limit of {max_bytes} bytes")
    if not data:
        raise EmptyFile("the uploaded file is empty")
    return data
