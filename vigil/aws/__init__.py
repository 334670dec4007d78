"""AWS emulation: the Rekognition-compatible API (SigV4, its request checks and error shapes, video
jobs), S3 object reads and tags, SQS ingest.
"""
