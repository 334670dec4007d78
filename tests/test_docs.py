"""Every setting and every error code is documented (a test fails when one is not)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from vigil import errors
from vigil.settings import ENV_PREFIX, Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    missing = [
        name for name in Settings.model_fields if f"`{ENV_PREFIX}{name.upper()}`" not in text
    ]
    assert missing == []


def test_every_error_code_is_documented() -> None:
    text = (DOCS / "errors.md").read_text()
    codes = {
        cls.code
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.VigilError)
    }
    assert sorted(code for code in codes if f"`{code}`" not in text) == []


def test_every_link_between_docs_resolves() -> None:
    pages = [*DOCS.glob("*.md"), DOCS.parent / "README.md"]
    broken = [
        f"{page.name} -> {target}"
        for page in pages
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text())
        if not (page.parent / target).exists()
    ]
    assert broken == []
