"""Built-in processors: one module per integration family."""
