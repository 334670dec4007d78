"""The small shared core every feature package may import: asset status, times, enums, audit rows,
day windows, events.
"""
