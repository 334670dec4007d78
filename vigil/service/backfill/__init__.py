"""Backfill and re-scan: moderating a media library that already exists (docs/scale-out.md).

``scan`` moderates every object under a folder or an S3 prefix; ``rescan`` decides stored
assets again with the detectors enabled now. Both split their work into batches that a
``BatchWorker`` (detectors loaded once) moderates, here or in Ray actors (``ray_cluster``,
imported only with ``--ray``).
"""
