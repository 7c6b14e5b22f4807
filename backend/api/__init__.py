"""The REST API under /api (OpenAPI at /docs), guarded by the bearer token."""
