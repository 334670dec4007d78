"""The detection engine: detectors chosen and run, the duplicate cache, adapters, model bundles,
evaluation.
"""
