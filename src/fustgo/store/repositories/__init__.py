"""Reads and writes of the store, one module per resource; every function takes a `Session`
(the caller decides the transaction: `Store.session()`)."""
