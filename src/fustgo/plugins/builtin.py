"""The built-in plugins by kind and name, and the module that registers each.

The registry imports a plugin's module only when the plugin is first asked for, so `fustgo
run` imports the few plugins its pipeline names, not all of them (and no driver library:
drivers are imported inside the plugins' `open()`). `tests/plugins/test_registry.py`
checks that this table and what the modules register agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fustgo.plugins.registry import PluginKind, Registry

BUILTIN: dict[PluginKind, dict[str, str]] = {
    "input": {
        "csv": "fustgo.plugins.inputs.files.csv",
        "generate": "fustgo.plugins.inputs.generate",
        "http": "fustgo.plugins.inputs.http",
        "http_server": "fustgo.plugins.inputs.http_server",
        "json": "fustgo.plugins.inputs.files.json",
        "kafka": "fustgo.plugins.inputs.kafka",
        "mariadb": "fustgo.plugins.inputs.mysql",
        "mqtt": "fustgo.plugins.inputs.mqtt",
        "mysql": "fustgo.plugins.inputs.mysql",
        "nats": "fustgo.plugins.inputs.nats",
        "parquet": "fustgo.plugins.inputs.files.parquet",
        "postgresql": "fustgo.plugins.inputs.postgresql",
        "rabbitmq": "fustgo.plugins.inputs.rabbitmq",
        "redis": "fustgo.plugins.inputs.redis",
        "sqlite": "fustgo.plugins.inputs.sqlite",
        "tidb": "fustgo.plugins.inputs.mysql",
        "websocket": "fustgo.plugins.inputs.websocket",
    },
    "processor": {
        "aggregate": "fustgo.plugins.processors.aggregate.processor",
        "conditional": "fustgo.plugins.processors.conditional",
        "date_format": "fustgo.plugins.processors.date_format",
        "deduplicate": "fustgo.plugins.processors.deduplicate",
        "enrichment": "fustgo.plugins.processors.enrichment",
        "filter": "fustgo.plugins.processors.filter",
        "json_decode": "fustgo.plugins.processors.json_codec.decode",
        "json_encode": "fustgo.plugins.processors.json_codec.encode",
        "mapping": "fustgo.plugins.processors.mapping",
        "merge": "fustgo.plugins.processors.merge",
        "regex_extract": "fustgo.plugins.processors.regex_extract",
        "split": "fustgo.plugins.processors.split",
        "sql": "fustgo.plugins.processors.sql",
        "transform": "fustgo.plugins.processors.transform.processor",
    },
    "output": {
        "broker": "fustgo.plugins.outputs.branching",
        "csv": "fustgo.plugins.outputs.files.csv",
        "drop": "fustgo.plugins.outputs.stdout",
        "http": "fustgo.plugins.outputs.http",
        "json": "fustgo.plugins.outputs.files.json",
        "kafka": "fustgo.plugins.outputs.kafka",
        "mariadb": "fustgo.plugins.outputs.mysql",
        "mqtt": "fustgo.plugins.outputs.mqtt",
        "mysql": "fustgo.plugins.outputs.mysql",
        "nats": "fustgo.plugins.outputs.nats",
        "parquet": "fustgo.plugins.outputs.files.parquet",
        "postgresql": "fustgo.plugins.outputs.postgresql",
        "rabbitmq": "fustgo.plugins.outputs.rabbitmq",
        "redis": "fustgo.plugins.outputs.redis",
        "sqlite": "fustgo.plugins.outputs.sqlite",
        "stdout": "fustgo.plugins.outputs.stdout",
        "switch": "fustgo.plugins.outputs.branching",
        "tidb": "fustgo.plugins.outputs.mysql",
    },
}


def declare_builtins(registry: Registry) -> None:
    """Make every built-in plugin known to `registry` by name (imports nothing)."""
    for kind, plugins in BUILTIN.items():
        for name, module in plugins.items():
            registry.declare(kind, name, module)
