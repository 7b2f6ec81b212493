"""HTTP interfaces: REST under /v1 (and GraphQL later). Thin: parse, call a service, render."""
