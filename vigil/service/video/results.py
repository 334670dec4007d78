"""A stored video moderation in the shape of Rekognition's ``GetContentModeration``: sorted,
aggregated by timestamps or segments, and paged with an opaque ``NextToken``."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from vigil.errors import InvalidPaginationToken, InvalidParameter
from vigil.labels import ModerationLabel
from vigil.service.video.segments import FrameLabels, Segment, label_shape

SORT_BY = ("TIMESTAMP", "NAME")
AGGREGATE_BY = ("TIMESTAMPS", "SEGMENTS")
MAX_RESULTS = 1000  # Rekognition's own ceiling and default


@dataclass(frozen=True)
class PageRequest:
    sort_by: str = "TIMESTAMP"
    aggregate_by: str = "TIMESTAMPS"
    max_results: int = MAX_RESULTS
    next_token: str | None = None

    def checked(self) -> PageRequest:
        sort_by, aggregate_by = self.sort_by.upper(), self.aggregate_by.upper()
        if sort_by not in SORT_BY:
            raise InvalidParameter(f"SortBy must be one of {', '.join(SORT_BY)}")
        if aggregate_by not in AGGREGATE_BY:
            raise InvalidParameter(f"AggregateBy must be one of {', '.join(AGGREGATE_BY)}")
        if not 1 <= self.max_results <= MAX_RESULTS:
            raise InvalidParameter(f"MaxResults must be between 1 and {MAX_RESULTS}")
        return PageRequest(sort_by, aggregate_by, self.max_results, self.next_token)


def moderation_labels(
    frames: list[FrameLabels], segments: list[Segment], request: PageRequest, thumbnail_url: str
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``ModerationLabels`` entries and the token for the next page (or None)."""
    if request.aggregate_by == "SEGMENTS":
        entries = [_segment_entry(segment, thumbnail_url) for segment in segments]
    else:
        entries = [
            _timestamp_entry(frame.timestamp_ms, label)
            for frame in frames
            for label in frame.labels
        ]
    if request.sort_by == "NAME":
        entries.sort(key=lambda entry: (entry["ModerationLabel"]["Name"], entry["Timestamp"]))
    else:
        entries.sort(key=lambda entry: (entry["Timestamp"], entry["ModerationLabel"]["Name"]))
    start = _offset(request)
    end = start + request.max_results
    token = _token(end, request) if end < len(entries) else None
    return entries[start:end], token


def _timestamp_entry(timestamp: int, label: ModerationLabel) -> dict[str, Any]:
    return {"Timestamp": timestamp, "ModerationLabel": label_shape(label), "ContentTypes": []}


def _segment_entry(segment: Segment, thumbnail_url: str) -> dict[str, Any]:
    shape = segment.to_dict()
    entry: dict[str, Any] = {
        "Timestamp": segment.start_ms,
        "ModerationLabel": {
            key: shape[key] for key in ("Name", "ParentName", "TaxonomyLevel", "Confidence")
        },
        "StartTimestampMillis": segment.start_ms,
        "EndTimestampMillis": segment.end_ms,
        "DurationMillis": segment.end_ms - segment.start_ms,
        "ContentTypes": [],
    }
    if segment.thumbnail is not None:
        entry["ThumbnailUrl"] = f"{thumbnail_url}/{segment.thumbnail}"
    return entry


def _token(offset: int, request: PageRequest) -> str:
    body = json.dumps({"o": offset, "s": request.sort_by, "a": request.aggregate_by})
    return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")


def _offset(request: PageRequest) -> int:
    """Where the page starts; a token from another query, or no token at all, is refused."""
    if not request.next_token:
        return 0
    try:
        padded = request.next_token + "=" * (-len(request.next_token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset, sort_by, aggregate_by = int(body["o"]), body["s"], body["a"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidPaginationToken("NextToken is not a token this service issued") from None
    if (sort_by, aggregate_by) != (request.sort_by, request.aggregate_by) or offset < 0:
        raise InvalidPaginationToken(
            "NextToken belongs to a query with another SortBy or AggregateBy; repeat the query "
            "that returned it"
        )
    return offset
