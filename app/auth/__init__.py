"""Sign-in, tokens, principals and the one access policy."""
