"""Request and response models, one module per area; the tables they read from are in app/db."""
