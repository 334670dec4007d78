"""Video moderation: sampled frames through the engine, segments, stored results, the job
handler."""
