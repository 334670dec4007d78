"""Detectors: models that say what is in an image, as taxonomy labels with confidences."""
