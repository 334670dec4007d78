"""The review console: server-rendered pages at /review for people (docs/review.md)."""
