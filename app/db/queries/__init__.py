"""Queries and writes that own the SQL, one module per aggregate."""
