"""Built-in outputs: one module per integration family."""
