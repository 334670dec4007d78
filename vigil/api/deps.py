"""Request-scoped helpers: the running Vigil, the caller, the uploaded bytes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, UploadFile

from vigil.app import Vigil
from vigil.errors import EmptyFile, ImageTooLarge
from vigil.service.access.keys import authenticate
from vigil.service.access.principal import Principal


def get_vigil(request: Request) -> Vigil:
    vigil: Vigil = request.app.state.vigil
    return vigil


VigilDep = Annotated[Vigil, Depends(get_vigil)]


def get_principal(
    vigil: VigilDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
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
