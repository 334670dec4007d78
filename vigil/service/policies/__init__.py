"""Policies in the database: versions, shadow mode, simulation, threshold suggestions, upload
presets.
"""
