"""A video's labels over time: per sampled frame, and merged into segments.

A segment is a run of detections of one label whose neighbours are at most the gap tolerance
apart. Each detection covers its frame's sampling interval, so a label seen in one frame of a
one-frame-a-second sample gives a segment of one second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigil.labels import ModerationLabel


@dataclass(frozen=True)
class FrameLabels:
    timestamp_ms: int
    labels: list[ModerationLabel]
    # The analysed frame whose labels this near-identical frame reuses (None: analysed itself).
    duplicate_of: int | None = None

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "Timestamp": self.timestamp_ms,
            "Labels": [label_shape(label) for label in self.labels],
        }
        if self.duplicate_of is not None:
            shown["DuplicateOf"] = self.duplicate_of
        return shown

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameLabels:
        labels = [
            ModerationLabel(
                name=item["Name"],
                parent=item.get("ParentName", ""),
                level=int(item.get("TaxonomyLevel", 1)),
                confidence=float(item["Confidence"]),
                detector=item.get("Detector", ""),
            )
            for item in data.get("Labels", [])
        ]
        return cls(int(data["Timestamp"]), labels, data.get("DuplicateOf"))


@dataclass(frozen=True)
class Segment:
    name: str
    parent: str
    level: int
    confidence: float  # the highest over the segment's frames
    start_ms: int
    end_ms: int
    thumbnail: int | None = None  # index into the video's thumbnails

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "Name": self.name,
            "ParentName": self.parent,
            "TaxonomyLevel": self.level,
            "Confidence": round(self.confidence, 3),
            "StartTimestampMillis": self.start_ms,
            "EndTimestampMillis": self.end_ms,
            "DurationMillis": self.end_ms - self.start_ms,
        }
        if self.thumbnail is not None:
            shown["Thumbnail"] = self.thumbnail
        return shown

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        return cls(
            name=data["Name"],
            parent=data.get("ParentName", ""),
            level=int(data.get("TaxonomyLevel", 1)),
            confidence=float(data["Confidence"]),
            start_ms=int(data["StartTimestampMillis"]),
            end_ms=int(data["EndTimestampMillis"]),
            thumbnail=data.get("Thumbnail"),
        )

    def alert_view(self) -> dict[str, Any]:
        """The shape alert rules and the video.completed event use."""
        return {
            "label": self.name,
            "confidence": round(self.confidence, 3),
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
        }


def merge_segments(
    frames: list[FrameLabels], interval_ms: int, gap_ms: int, duration_ms: int
) -> list[Segment]:
    """Segments of every label, ordered by start time then name."""
    runs: dict[str, list[tuple[int, ModerationLabel]]] = {}
    for frame in sorted(frames, key=lambda item: item.timestamp_ms):
        for label in frame.labels:
            runs.setdefault(label.name, []).append((frame.timestamp_ms, label))
    segments = [segment for hits in runs.values() for segment in _split(hits, interval_ms, gap_ms)]
    segments = [_clamped(segment, duration_ms) for segment in segments]
    return sorted(segments, key=lambda segment: (segment.start_ms, segment.name))


def _split(hits: list[tuple[int, ModerationLabel]], interval_ms: int, gap_ms: int) -> list[Segment]:
    segments: list[Segment] = []
    start, last, best = hits[0][0], hits[0][0], hits[0][1]
    for timestamp, label in hits[1:]:
        if timestamp - last > gap_ms:
            segments.append(_segment(best, start, last + interval_ms))
            start, best = timestamp, label
        elif label.confidence > best.confidence:
            best = label
        last = timestamp
    segments.append(_segment(best, start, last + interval_ms))
    return segments


def _segment(label: ModerationLabel, start: int, end: int) -> Segment:
    return Segment(label.name, label.parent, label.level, label.confidence, start, end)


def _clamped(segment: Segment, duration_ms: int) -> Segment:
    end = max(segment.start_ms, min(segment.end_ms, duration_ms))
    return Segment(
        segment.name, segment.parent, segment.level, segment.confidence, segment.start_ms, end
    )


def label_shape(label: ModerationLabel) -> dict[str, Any]:
    return {
        "Name": label.name,
        "ParentName": label.parent,
        "TaxonomyLevel": label.level,
        "Confidence": round(label.confidence, 3),
    }
