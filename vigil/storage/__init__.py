"""Persistence: database tables and repositories, migrations, blob stores."""
