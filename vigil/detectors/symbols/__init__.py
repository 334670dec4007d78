"""The symbols detector: hate symbols drawn or printed in an image, found by shape
(docs/symbols.md)."""
