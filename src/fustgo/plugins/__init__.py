"""The plugin SDK (api, registry, spec) and every built-in input, processor and output."""
