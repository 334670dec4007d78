"""Intake: deciding what uploaded bytes are, refusing what they must not be, decoding once."""
