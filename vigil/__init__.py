"""vigil: self-hosted content moderation for user uploads."""

__version__ = "0.1.0"
