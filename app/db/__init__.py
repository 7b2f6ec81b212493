"""Storage: engine and sessions, SQLModel tables, and the queries that own the SQL."""
