"""Who is asking: API keys and the principal (id and role) they authenticate as."""
