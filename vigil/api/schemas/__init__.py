"""Response models of the HTTP API, one module per concept; ``/docs`` and ``/openapi.json``
show each route's response schema from them (docs/api.md#response-schemas)."""
