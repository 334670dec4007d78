"""The durable job queue and the workers that drain it."""
