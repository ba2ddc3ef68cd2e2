"""Code shared by the input and output of one connector family (connections, type maps)."""
