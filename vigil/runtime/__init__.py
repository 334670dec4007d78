"""What a vigil process runs besides answering requests: the job-queue worker pool and the
maintenance thread.
"""
