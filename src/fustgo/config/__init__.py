"""Pipeline files: models, the loader (YAML + positions + ${VAR:default}), validation, schema."""
