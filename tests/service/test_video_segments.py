"""Segments from per-frame labels, and GetContentModeration's sorting and paging."""

from __future__ import annotations

import pytest

from vigil.errors import InvalidPaginationToken, InvalidParameter
from vigil.labels import ModerationLabel
from vigil.service.video.results import PageRequest, moderation_labels
from vigil.service.video.segments import FrameLabels, Segment, merge_segments

WEAPONS = ModerationLabel("Weapons", "Violence", 2, 80.0, "clip")
VIOLENCE = ModerationLabel("Violence", "", 1, 80.0, "clip")


def frames(*seen: tuple[int, list[ModerationLabel]]) -> list[FrameLabels]:
    return [FrameLabels(timestamp, labels) for timestamp, labels in seen]


def labelled(name: str, confidence: float) -> ModerationLabel:
    return ModerationLabel(name, "", 1, confidence, "test")


def test_consecutive_detections_merge_and_gaps_split() -> None:
    seen = frames(
        (0, [labelled("Violence", 60)]),
        (1000, [labelled("Violence", 90)]),
        (2000, []),
        (3000, []),
        (5000, [labelled("Violence", 70)]),
    )
    segments = merge_segments(seen, interval_ms=1000, gap_ms=2000, duration_ms=10_000)
    assert [(s.start_ms, s.end_ms, s.confidence) for s in segments] == [
        (0, 2000, 90),
        (5000, 6000, 70),
    ]


def test_a_gap_within_tolerance_keeps_one_segment() -> None:
    seen = frames((0, [labelled("Violence", 60)]), (2000, [labelled("Violence", 60)]))
    (segment,) = merge_segments(seen, interval_ms=1000, gap_ms=2000, duration_ms=10_000)
    assert (segment.start_ms, segment.end_ms) == (0, 3000)


def test_segments_end_at_the_video_end() -> None:
    seen = frames((9500, [labelled("Violence", 60)]))
    (segment,) = merge_segments(seen, interval_ms=1000, gap_ms=2000, duration_ms=9800)
    assert (segment.start_ms, segment.end_ms) == (9500, 9800)


def test_each_label_has_its_own_segments_ordered_by_start() -> None:
    seen = frames((0, [VIOLENCE]), (1000, [VIOLENCE, WEAPONS]))
    segments = merge_segments(seen, interval_ms=1000, gap_ms=2000, duration_ms=5000)
    assert [(s.name, s.start_ms) for s in segments] == [("Violence", 0), ("Weapons", 1000)]
    assert Segment.from_dict(segments[1].to_dict()) == segments[1]


def test_frame_labels_round_trip() -> None:
    frame = FrameLabels(1000, [WEAPONS], duplicate_of=0)
    back = FrameLabels.from_dict(frame.to_dict())
    assert back.timestamp_ms == 1000 and back.duplicate_of == 0
    assert back.labels[0].name == "Weapons" and back.labels[0].parent == "Violence"


SEEN = frames((0, [VIOLENCE, WEAPONS]), (1000, [VIOLENCE]), (5000, [WEAPONS]))
SEGMENTS = merge_segments(SEEN, 1000, 2000, 6000)


def page(request: PageRequest) -> tuple[list[dict[str, object]], str | None]:
    return moderation_labels(SEEN, SEGMENTS, request.checked(), "/thumbs")


def test_timestamps_sorted_by_time_or_by_name() -> None:
    by_time, _ = page(PageRequest())
    assert [(e["Timestamp"], e["ModerationLabel"]["Name"]) for e in by_time] == [  # type: ignore[index]
        (0, "Violence"),
        (0, "Weapons"),
        (1000, "Violence"),
        (5000, "Weapons"),
    ]
    by_name, _ = page(PageRequest(sort_by="name"))
    assert [e["ModerationLabel"]["Name"] for e in by_name] == [  # type: ignore[index]
        "Violence",
        "Violence",
        "Weapons",
        "Weapons",
    ]


def test_segments_carry_start_end_and_duration() -> None:
    entries, _ = page(PageRequest(aggregate_by="SEGMENTS"))
    first = entries[0]
    assert {key: first[key] for key in ("StartTimestampMillis", "EndTimestampMillis")} == {
        "StartTimestampMillis": 0,
        "EndTimestampMillis": 2000,
    }
    assert first["DurationMillis"] == 2000


def test_paging_walks_every_entry_once() -> None:
    seen: list[object] = []
    token = None
    while True:
        entries, token = page(PageRequest(max_results=3, next_token=token))
        seen += entries
        if token is None:
            break
    assert seen == page(PageRequest())[0]


@pytest.mark.parametrize("token", ["garbage!", "eyJvIjogMX0", ""])
def test_foreign_tokens_are_refused(token: str) -> None:
    if not token:
        assert page(PageRequest(next_token=token))[0]  # no token: the first page
        return
    with pytest.raises(InvalidPaginationToken):
        page(PageRequest(next_token=token))


def test_a_token_from_another_query_is_refused() -> None:
    _, token = page(PageRequest(max_results=1))
    with pytest.raises(InvalidPaginationToken, match="another SortBy"):
        page(PageRequest(sort_by="NAME", max_results=1, next_token=token))


@pytest.mark.parametrize(
    "request_",
    [PageRequest(sort_by="SIZE"), PageRequest(aggregate_by="X"), PageRequest(max_results=0)],
)
def test_bad_parameters_are_refused(request_: PageRequest) -> None:
    with pytest.raises(InvalidParameter):
        request_.checked()
