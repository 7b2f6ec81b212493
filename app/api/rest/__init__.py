"""REST routers, one per resource family, all under /v1."""
