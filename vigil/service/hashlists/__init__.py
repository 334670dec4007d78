"""Known content: PDQ perceptual hashes of images and named lists of them that block, review or
allow copies before the detectors' bands decide (docs/hashlists.md).
"""
