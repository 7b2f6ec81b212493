"""Read-only GraphQL at /graphql: the same principal, services and policy as REST."""
