"""Use cases. They load through db.queries, apply domain rules, flush, and never commit:
the request (or CLI command) that called them commits once at its boundary."""
