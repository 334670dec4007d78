"""The service layer: the one place business logic lives. HTTP, CLI and worker only translate."""
