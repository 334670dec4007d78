"""The S3 storage class of the archive area, checked when the settings are read (its own module:
checking it must not import boto3, which a local store never needs)."""

from __future__ import annotations

from vigil.errors import InvalidParameter

# Storage classes the archive area may use: each reads back at once, so a restore is a copy.
INSTANT_CLASSES = ("GLACIER_IR", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "STANDARD")
# These need a RestoreObject (hours) before a read or copy; vigil's restore is immediate.
RESTORE_FIRST_CLASSES = ("GLACIER", "DEEP_ARCHIVE")
DEFAULT_ARCHIVE_CLASS = "GLACIER_IR"


def archive_storage_class(value: str) -> str:
    """The storage class for the archive area, normalised; refused unless objects in it can be
    read at once (GLACIER and DEEP_ARCHIVE can't: a restore would take hours)."""
    name = value.strip().upper()
    if name in INSTANT_CLASSES:
        return name
    usable = ", ".join(INSTANT_CLASSES)
    if name in RESTORE_FIRST_CLASSES:
        raise InvalidParameter(
            f"VIGIL_S3_ARCHIVE_STORAGE_CLASS={name} is not supported: objects in {name} must be "
            f"restored for hours before they can be read, and vigil restores archived assets "
            f"at once. Use one of {usable} (GLACIER_IR is cold storage read in milliseconds)"
        )
    raise InvalidParameter(f"VIGIL_S3_ARCHIVE_STORAGE_CLASS must be one of {usable}, not {value!r}")
