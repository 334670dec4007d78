"""Outgoing webhooks: signing, target checks, and the HTTP request itself."""
