"""The `fustgo` command line: run, validate, plugins, schema, version."""
