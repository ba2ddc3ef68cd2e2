"""Built-in inputs: one module per integration family."""
